/**
 * Each runtime's adapter serves a fetch handler on a real socket, and both peer
 * transports (undici's Pool for Node, fetch for Bun and Deno) carry bytes to it and back.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { detectRuntime, loadAdapter } from "../../adapters/mod.ts";
import { undiciTransport } from "../../adapters/node.ts";
import { fetchTransport, type Transport } from "../../lib/env.ts";
import { freePort } from "../support/processes.ts";

/** Answers every POST with its body reversed and the path it was sent to in a header. */
async function echo(request: Request): Promise<Response> {
  const body = new Uint8Array(await request.arrayBuffer()).reverse();
  return new Response(body, { status: 202, headers: { "x-path": new URL(request.url).pathname } });
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
      const peer = `127.0.0.1:${port}`;
      const replies = await Promise.all(
        Array.from({ length: 50 }, (_, i) => transport.send(peer, "/_kv/echo", new Uint8Array([i, 1, 2, 3]))),
      );
      replies.forEach((reply, i) => {
        assert.equal(reply.status, 202);
        assert.deepEqual([...reply.body], [3, 2, 1, i]);
      });
      const big = new Uint8Array(300_000).map((_, i) => i % 251);
      const reply = await transport.send(peer, "/_kv/echo", big);
      assert.deepEqual(reply.body, big.slice().reverse());
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
