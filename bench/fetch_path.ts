/**
 * The cost of one request through the node's own code, with no sockets: node.fetch against
 * a bare itty-router route and bare Request/Response construction, on whichever runtime
 * runs it. Tells how much of a request's time is ours and how much is the server's.
 *
 *   npx tsx bench/fetch_path.ts    bun run bench/fetch_path.ts    deno run -A bench/fetch_path.ts
 */
import { Router } from "itty-router";
import { detectRuntime } from "../adapters/mod.ts";
import { defaultConfig } from "../lib/config.ts";
import { realClock, realRandom, type Transport } from "../lib/env.ts";
import { silentLogger } from "../lib/log.ts";
import { createNode } from "../lib/node.ts";

const noPeers: Transport = { send: () => Promise.reject(new Error("no peers")), close: async () => {} };
const node = createNode(defaultConfig({ port: 8000 }), { clock: realClock, random: realRandom, transport: noPeers, log: silentLogger });
const url = "http://127.0.0.1:8000/d/bench";
await node.fetch(new Request(url, { method: "PUT", body: "v".repeat(100) }));
const bare = Router();
bare.get("/d/:key", () => new Response("v".repeat(100)));

async function rate(f: () => unknown, n = 100_000): Promise<number> {
  for (let i = 0; i < n / 5; i++) await f();
  const t = performance.now();
  for (let i = 0; i < n; i++) await f();
  return Math.round(n / ((performance.now() - t) / 1000));
}

const rows: Array<[string, number]> = [
  ["Request + Response only", await rate(() => (new Request(url), new Response("hello")))],
  ["bare itty-router GET", await rate(() => bare.fetch(new Request(url)))],
  ["node.fetch GET /d/{key}", await rate(() => node.fetch(new Request(url)))],
  ["node.fetch PUT /d/{key} (100 B)", await rate(() => node.fetch(new Request(url, { method: "PUT", body: "v".repeat(100) })))],
];
console.log(`runtime: ${detectRuntime()}`);
for (const [name, ops] of rows) console.log(`${name.padEnd(34)} ${String(ops).padStart(9)} ops/s`);
