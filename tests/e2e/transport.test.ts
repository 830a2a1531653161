/**
 * Each runtime's adapter serves a fetch handler on a real socket, both HTTP peer transports
 * (undici's Pool for Node, fetch for Bun and Deno) carry bytes to it and back, and its peer
 * streams (a WebSocket per peer) carry frames and hang up on hostile ones.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { detectRuntime, loadAdapter } from "../../adapters/mod.ts";
import type { Served } from "../../adapters/types.ts";
import { undiciTransport } from "../../adapters/node.ts";
import { fetchTransport, type Transport } from "../../lib/env.ts";
import { decodeReplyFrame, encodeRequestFrame } from "../../lib/wire/frames.ts";
import { STREAM_PATH } from "../../lib/wire/paths.ts";
import { PeerTable } from "../../lib/peer/table.ts";
import { streamResponder } from "../../lib/stream/responder.ts";
import { freePort } from "../support/processes.ts";

/** Answers every POST with its body reversed and the path it was sent to in a header. */
async function echo(request: Request): Promise<Response> {
  if (request.method === "GET") return new Response("not a stream");
  const body = new Uint8Array(await request.arrayBuffer()).reverse();
  return new Response(body, { status: 202, headers: { "x-path": new URL(request.url).pathname } });
}

/** 50 small messages at once and one of 300 KB to `path`, each answered reversed with `status`. */
async function assertReversesBytes(transport: Transport, peer: string, path: string, status: number): Promise<void> {
  const replies = await Promise.all(Array.from({ length: 50 }, (_, i) => transport.send(peer, path, new Uint8Array([i, 1, 2, 3]))));
  replies.forEach((reply, i) => {
    assert.equal(reply.status, status);
    assert.deepEqual([...reply.body], [3, 2, 1, i]);
  });
  const big = new Uint8Array(300_000).map((_, i) => i % 251);
  const reply = await transport.send(peer, path, big);
  assert.equal(reply.status, status);
  assert.deepEqual(reply.body, big.slice().reverse());
}

// undici's Pool is the Node adapter's transport only: Bun ships a partial stand-in for the
// `undici` module, and Deno is served by fetch.
const transports: Array<[string, () => Transport, boolean]> = [
  ["undici Pool", () => undiciTransport(4), detectRuntime() !== "node"],
  ["fetch", () => fetchTransport(), false],
];

for (const [name, make, skip] of transports) {
  test(`${detectRuntime()} adapter serves, and the ${name} transport round-trips bytes`, { skip }, async () => {
    const adapter = await loadAdapter();
    const port = await freePort();
    const server = await adapter.serve(echo, { hostname: "127.0.0.1", port });
    const transport = make();
    try {
      await assertReversesBytes(transport, `127.0.0.1:${port}`, "/_kv/echo", 202);
    } finally {
      await transport.close();
      await server.close();
    }
  });

  test(`the ${name} transport rejects on an unreachable peer and on abort`, { skip }, async () => {
    const transport = make();
    const adapter = await loadAdapter();
    const port = await freePort();
    let answer = () => {};
    const held = () => new Promise<Response>((resolve) => (answer = () => resolve(new Response("late"))));
    const server = await adapter.serve(held, { hostname: "127.0.0.1", port });
    try {
      const closed = await freePort();
      await assert.rejects(transport.send(`127.0.0.1:${closed}`, "/_kv/echo", new Uint8Array(1)));
      const controller = new AbortController();
      const pending = transport.send(`127.0.0.1:${port}`, "/_kv/echo", new Uint8Array(1), controller.signal);
      setTimeout(() => controller.abort(), 50);
      await assert.rejects(pending);
    } finally {
      answer();
      await transport.close();
      await transport.close(); // closing twice is harmless
      await server.close();
    }
  });
}

test("the undici transport closes pools left idle, so peers gone for good do not keep one", { skip: detectRuntime() !== "node" }, async () => {
  const adapter = await loadAdapter();
  const ports = [await freePort(), await freePort()];
  const servers = await Promise.all(ports.map((port) => adapter.serve(echo, { hostname: "127.0.0.1", port })));
  const transport = undiciTransport(4, undefined, 200);
  try {
    for (const port of ports) await transport.send(`127.0.0.1:${port}`, "/_kv/echo", new Uint8Array([1]));
    assert.equal(transport.pools(), 2);
    await new Promise((r) => setTimeout(r, 250));
    const reply = await transport.send(`127.0.0.1:${ports[1]}`, "/_kv/echo", new Uint8Array([1, 2]));
    assert.deepEqual([...reply.body], [2, 1]);
    assert.equal(transport.pools(), 1, "the idle peer's pool was closed; the one in use is open");
  } finally {
    await transport.close();
    await Promise.all(servers.map((s) => s.close()));
  }
});

/** The runtime's own WebSocket client: global on Bun and Deno, undici's on Node 20. */
async function webSocketClass(): Promise<typeof WebSocket> {
  return (globalThis as { WebSocket?: typeof WebSocket }).WebSocket ?? ((await import("undici")).WebSocket as unknown as typeof WebSocket);
}

/** Serves `echo`, with peer streams whose batches are answered reversed, frames limited to `maxFrameBytes`. */
async function serveWithStreams(maxFrameBytes = 1024 * 1024) {
  const adapter = await loadAdapter();
  const port = await freePort();
  const peer = `127.0.0.1:${port}`;
  const respond = streamResponder(new PeerTable({ "/_kv/batch": { maxBytes: Infinity, handle: (body) => body.slice().reverse() } }));
  // As a node's own route does: a server that upgrades from inside fetch (Deno) is asked to.
  let server: Served | undefined;
  const handler = async (request: Request) => (request.method === "GET" && server?.acceptStream?.(request)) || echo(request);
  server = await adapter.serve(handler, { hostname: "127.0.0.1", port, stream: { respond, maxFrameBytes } });
  return { adapter, peer, server: server! };
}

test(`${detectRuntime()} adapter carries peer streams, and its transport sends batches on them`, async () => {
  const { adapter, peer, server } = await serveWithStreams();
  const transport = adapter.transport();
  try {
    await assertReversesBytes(transport, peer, "/_kv/batch", 200);
    // Every other route still goes over HTTP.
    assert.equal((await transport.send(peer, "/_kv/echo", new Uint8Array([1]))).status, 202);
    // A plain GET of the stream path is not an upgrade: the node's own answer.
    assert.equal((await fetch(`http://${peer}${STREAM_PATH}`)).status, 200);
  } finally {
    await transport.close();
    await server.close();
  }
});

test(`${detectRuntime()} adapter closes a stream that sends what it cannot read, and goes on serving`, async () => {
  const { peer, server } = await serveWithStreams(4096);
  const WS = await webSocketClass();
  const open = async () => {
    const ws = new WS(`ws://${peer}${STREAM_PATH}`);
    ws.binaryType = "arraybuffer";
    const closed = new Promise<void>((resolve) => (ws.onclose = () => resolve()));
    const messages: ArrayBuffer[] = [];
    ws.onmessage = (e) => messages.push(e.data as ArrayBuffer);
    await new Promise<void>((resolve, reject) => {
      ws.onopen = () => resolve();
      ws.onerror = () => reject(new Error("could not open a stream"));
    });
    return { ws, closed, messages };
  };
  try {
    const good = await open();
    good.ws.send(encodeRequestFrame(41, "/_kv/batch", new Uint8Array([1, 2])));
    good.ws.send(encodeRequestFrame(42, "/_kv/echo", new Uint8Array([1, 2])));
    for (let i = 0; i < 200 && good.messages.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    const [reply, unknown] = good.messages.map((m) => decodeReplyFrame(new Uint8Array(m))).sort((a, b) => a.id - b.id);
    assert.deepEqual([reply!.id, reply!.status, ...reply!.body], [41, 200, 2, 1]);
    assert.deepEqual([unknown!.id, unknown!.status], [42, 404], "only batches travel on a stream");
    good.ws.close();

    for (const hostile of [new Uint8Array(3), "a text frame", new Uint8Array(10_000)]) {
      const { ws, closed } = await open();
      ws.send(hostile as Uint8Array<ArrayBuffer>);
      await closed; // the server hung up on this socket
    }
    const reply2 = await fetch(`http://${peer}/_kv/echo`, { method: "POST", body: new Uint8Array([5, 6]) });
    assert.deepEqual([...new Uint8Array(await reply2.arrayBuffer())], [6, 5], "the server still answers");
  } finally {
    await server.close();
  }
});
