/**
 * The peer transport alone, 64 requests in flight from this process to a Bun node in
 * another process, on whichever runtime runs this: small POSTs over HTTP (what membership
 * and stabilisation use) and one-message batches on a peer stream (what coordinators use).
 *
 *   bun run bench/transport.ts    deno run -A bench/transport.ts    npx tsx bench/transport.ts
 */
import { detectRuntime, loadAdapter } from "../adapters/mod.ts";
import { encodeBatch, encodeKvRequest } from "../lib/wire/replica.ts";
import { startNode } from "../tests/support/processes.ts";

const runtime = detectRuntime();
const target = await startNode("bun");
const peer = `127.0.0.1:${target.port}`;
const transport = (await loadAdapter()).transport();

async function rate(path: string, body: Uint8Array, durationMs = 4000): Promise<number> {
  let sent = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: 64 }, async () => {
    while (performance.now() - started < durationMs) {
      await transport.send(peer, path, body);
      sent++;
    }
  }));
  return Math.round(sent / (durationMs / 1000));
}

const post = await rate("/_swim/nothing", new Uint8Array(60));
const streamed = await rate("/_kv/batch", encodeBatch([encodeKvRequest({ type: "get", epoch: 1, key: "k" })]));
console.log(`${runtime} → bun node, 64 in flight: ${post} HTTP POSTs/s, ${streamed} batches/s on a peer stream`);
await transport.close();
await target.stop();
