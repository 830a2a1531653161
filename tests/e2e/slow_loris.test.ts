/**
 * A slow-loris client against a real node, on every runtime: 1,000 connections that send
 * half a request's headers and then a header line now and then. The node goes on answering
 * `/health` and `GET /d/k` at once; Node and Bun close those connections by their header or
 * idle timeout (Deno's server has none: docs/wire-format.md).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { detectRuntime } from "../../adapters/mod.ts";
import { startNode } from "../support/processes.ts";

const runtime = detectRuntime();
const HALF_OPEN = 1_000;

/** Milliseconds one request takes to answer, and its status. */
async function timed(url: string): Promise<[number, number]> {
  const started = performance.now();
  const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  await response.arrayBuffer();
  return [performance.now() - started, response.status];
}

test(`${runtime}: 1,000 half-open connections do not keep real clients waiting`, async () => {
  const node = await startNode(runtime);
  const sockets: Socket[] = [];
  let drip: ReturnType<typeof setInterval> | undefined;
  try {
    assert.equal((await fetch(`${node.url}/d/k`, { method: "PUT", body: "v" })).status, 204);
    await timed(`${node.url}/health`); // the client's own first connection is not the node's doing
    const opened = Array.from({ length: HALF_OPEN }, () => new Promise<void>((resolve) => {
      const socket = connect(node.port, "127.0.0.1", () => {
        socket.write("GET /health HTTP/1.1\r\nHost: a\r\n");
        resolve();
      });
      socket.on("error", () => resolve());
      sockets.push(socket);
    }));
    await Promise.all(opened);
    drip = setInterval(() => {
      for (const socket of sockets) if (!socket.destroyed) socket.write("x-slow: 1\r\n");
    }, 2_000);

    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const [healthMs, healthStatus] = await timed(`${node.url}/health`);
      const [getMs, getStatus] = await timed(`${node.url}/d/k`);
      assert.deepEqual([healthStatus, getStatus], [200, 200]);
      times.push(healthMs, getMs);
    }
    times.sort((a, b) => a - b);
    const median = times[times.length >> 1]!;
    assert.ok(median < 100, `median answer ${median.toFixed(1)} ms with ${HALF_OPEN} half-open connections: ${times.map((t) => t.toFixed(1)).join(", ")}`);
    assert.ok(times.at(-1)! < 2_000, `slowest answer ${times.at(-1)!.toFixed(1)} ms`);
    assert.equal(sockets.filter((s) => s.destroyed).length, 0, "the half-open connections were all taken");

    if (runtime !== "deno") {
      // Node: headers within 10 s (adapters/node.ts); Bun: 10 s idle, its default.
      const deadline = Date.now() + 25_000;
      while (sockets.some((s) => !s.destroyed) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
      assert.equal(sockets.filter((s) => !s.destroyed).length, 0, "the server closed every half-open connection");
    }
  } finally {
    clearInterval(drip);
    for (const socket of sockets) socket.destroy();
    await node.stop("SIGKILL");
  }
});
