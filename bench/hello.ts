/**
 * The baseline: each runtime's own bare server answering "hello", with no framework and
 * no bridge. `bench/throughput.sh` compares our node against it in the same run.
 *
 *   bun run bench/hello.ts 9000 | deno run -A bench/hello.ts 9000 | npx tsx bench/hello.ts 9000
 */
import process from "node:process";
import { detectRuntime } from "../adapters/mod.ts";

const port = Number(process.argv[2] ?? 9000);
const hostname = "127.0.0.1";
const runtime = detectRuntime();

if (runtime === "bun") {
  Bun.serve({ hostname, port, fetch: () => new Response("hello") });
} else if (runtime === "deno") {
  const deno = (globalThis as unknown as { Deno: { serve(o: object, h: () => Response): unknown } }).Deno;
  deno.serve({ hostname, port, onListen() {} }, () => new Response("hello"));
} else {
  const { createServer } = await import("node:http");
  createServer((_req, res) => res.end("hello")).listen(port, hostname);
}
console.log(JSON.stringify({ event: "listening", runtime, port }));
