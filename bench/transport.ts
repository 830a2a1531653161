/**
 * The peer transport alone: small msgpack-sized POSTs from this process to a node in
 * another process, 64 in flight, on whichever runtime runs this.
 *
 *   bun run bench/transport.ts    deno run -A bench/transport.ts    npx tsx bench/transport.ts
 */
import { detectRuntime, loadAdapter } from "../adapters/mod.ts";
import { startNode } from "../tests/support/processes.ts";

const runtime = detectRuntime();
const target = await startNode("bun");
const transport = (await loadAdapter()).transport();
const body = new Uint8Array(60);
let sent = 0;
const started = performance.now();
const durationMs = 4000;
await Promise.all(Array.from({ length: 64 }, async () => {
  while (performance.now() - started < durationMs) {
    await transport.send(`127.0.0.1:${target.port}`, "/_swim/nothing", body);
    sent++;
  }
}));
console.log(`${runtime} transport → bun node: ${Math.round(sent / (durationMs / 1000))} POSTs/s, 64 in flight`);
await transport.close();
await target.stop();
