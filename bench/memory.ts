/**
 * Resident bytes per key of a real node, beside Redis in the same run: what issue 23 asks
 * to bring within 1.2× of Redis. One node, alone, takes `keys` PUTs of fresh keys
 * (`key:000000000001`...) with 100-byte values through its HTTP API (wrk, one thread, 32
 * connections, in 10 s rounds until it holds at least that many). The figure is its process's RSS after, less before, over the live keys it
 * reports on /health. Redis takes as many SETs of 100-byte values (redis-benchmark, random
 * keys of the same shape); its figure is RSS (and `used_memory`) less its empty RSS, over
 * DBSIZE. The measurement covers the whole process, not a store alone
 * (`bench/store_memory.ts` measures that).
 *
 *   npx tsx bench/memory.ts [keys=1000000] [runtimes=bun,deno,node]
 *
 * Needs wrk; skips Redis, saying so, where redis-server is not installed.
 */
import { spawn, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { freePort, type Runtime, startNode } from "../tests/support/processes.ts";
import { installed } from "./cluster_args.ts";
import { fillFresh, liveKeys } from "./fresh_keys.ts";

const keys = Number(process.argv[2] ?? 1_000_000);
const runtimes = (process.argv[3] ?? "bun,deno,node").split(",") as Runtime[];
if (!installed("wrk")) {
  console.log("skipped: wrk is not installed (apt-get install wrk)");
  process.exit(0);
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const rss = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) * 1024;
const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(0);

async function node(runtime: Runtime): Promise<string> {
  const n = await startNode(runtime, []);
  try {
    await sleep(2_000);
    const before = rss(n.child.pid!);
    await fillFresh(n.url, keys);
    await sleep(3_000);
    const after = rss(n.child.pid!);
    const live = await liveKeys(n.url);
    return `${runtime.padEnd(6)} ${String(live).padStart(9)} keys   RSS ${mib(before)} → ${mib(after)} MiB   ${((after - before) / live).toFixed(0)} bytes per key`;
  } finally {
    await n.stop("SIGKILL");
  }
}

async function redis(): Promise<string> {
  if (!installed("redis-server")) return "redis  skipped: redis-server is not installed (apt-get install redis-server)";
  const port = await freePort();
  const server = spawn("redis-server", ["--port", String(port), "--save", "", "--appendonly", "no", "--bind", "127.0.0.1"], { stdio: "ignore" });
  const cli = (...args: string[]) => spawnSync("redis-cli", ["-p", String(port), ...args], { encoding: "utf8" }).stdout.trim();
  try {
    while (cli("PING") !== "PONG") await sleep(50);
    const before = rss(server.pid!);
    spawnSync("redis-benchmark", ["-p", String(port), "-t", "set", "-n", String(keys), "-r", "100000000", "-d", "100", "-P", "16", "-q"], { encoding: "utf8" });
    await sleep(1_000);
    const after = rss(server.pid!);
    const count = Number(cli("DBSIZE"));
    const used = Number(/used_memory:(\d+)/.exec(cli("INFO", "memory"))?.[1] ?? 0);
    return `redis  ${String(count).padStart(9)} keys   RSS ${mib(before)} → ${mib(after)} MiB   ${((after - before) / count).toFixed(0)} bytes per key (used_memory: ${(used / count).toFixed(0)})`;
  } finally {
    server.kill("SIGKILL");
  }
}

console.log(`${keys} fresh keys of 100 bytes each, one process at a time`);
console.log(await redis());
for (const runtime of runtimes) console.log(await node(runtime));
