/**
 * What a cluster that holds data costs while nobody uses it: 3 nodes (N = 3, so each holds
 * every key) take `keys` PUTs of fresh keys with 100-byte values through one node (wrk, in
 * 10 s rounds until it holds them all), sit 25 s, then CPU per node is read from /proc over
 * 40 s. What runs then is SWIM, the driver loop, housekeeping and, every
 * --sync-interval-ms (10 s), a stabilisation round, which walks every key to build its
 * anti-entropy summaries (docs/stabilisation.md).
 *
 *   npx tsx bench/idle_keys.ts [keys=1000000] [runtime=bun]
 *
 * Needs wrk.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Runtime, startCluster } from "../tests/support/processes.ts";
import { installed } from "./cluster_args.ts";

const keys = Number(process.argv[2] ?? 1_000_000);
const runtime = (process.argv[3] ?? "bun") as Runtime;
const SETTLE_MS = 25_000;
const IDLE_MS = 40_000;
if (!installed("wrk")) {
  console.log("skipped: wrk is not installed (apt-get install wrk)");
  process.exit(0);
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const dir = mkdtempSync("/tmp/dht-idle-keys-bench-");
const script = join(dir, "put_fresh.lua");
writeFileSync(script, `local n = 0\nlocal value = string.rep("v", 100)\ninit = function(args)\n  n = tonumber(args[1] or "0")\nend\nrequest = function()\n  n = n + 1\n  return wrk.format("PUT", string.format("/d/key:%012d", n), { ["Content-Type"] = "application/octet-stream" }, value)\nend\n`);

/** Live keys on a node (asked twice if need be: it may have closed the connection fetch kept). */
async function liveKeys(url: string): Promise<number> {
  const ask = async () => (await (await fetch(`${url}/health`)).json()).liveKeys as number;
  return ask().catch(ask);
}

/** CPU seconds (user + system) of a process, from /proc. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

const nodes = await startCluster([runtime, runtime, runtime]);
try {
  for (let round = 0; (await liveKeys(nodes[0]!.url)) < keys; round++) {
    spawnSync("wrk", ["-t1", "-c32", "-d10s", "-s", script, nodes[0]!.url, "--", String(round * 100_000_000)]);
  }
  await sleep(SETTLE_MS);
  const before = nodes.map((n) => cpuSeconds(n.child.pid!));
  await sleep(IDLE_MS);
  const percent = nodes.map((n, i) => (100 * (cpuSeconds(n.child.pid!) - before[i]!)) / (IDLE_MS / 1000));
  const held = await Promise.all(nodes.map((n) => liveKeys(n.url)));
  console.log(`3 ${runtime} nodes holding ${held.join(" / ")} keys, idle over ${IDLE_MS / 1000} s: ${percent.map((p) => `${p.toFixed(1)}%`).join(" / ")} CPU per node`);
} finally {
  await Promise.all(nodes.map((n) => n.stop("SIGKILL")));
  rmSync(dir, { recursive: true, force: true });
}
