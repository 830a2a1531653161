/**
 * What a cluster that holds data costs while nobody uses it, or while a trickle of writes
 * comes: 3 nodes (N = 3, so each holds every key) take `keys` PUTs of fresh keys with
 * 100-byte values through one node (wrk, in 10 s rounds until it holds them all), sit 25 s,
 * then CPU per node is read from /proc over 40 s, while this bench overwrites
 * `writesPerSec` keys a second (one at a time, through each node in turn). What runs then
 * is SWIM, the driver loop, housekeeping and, every --sync-interval-ms (10 s), a
 * stabilisation round, which compares the anti-entropy summaries each node keeps true as
 * keys are written (docs/stabilisation.md).
 *
 *   npx tsx bench/idle_keys.ts [keys=1000000] [runtime=bun] [writesPerSec=0]
 *
 * Needs wrk.
 */
import { readFileSync } from "node:fs";
import { type Runtime, startCluster } from "../tests/support/processes.ts";
import { installed } from "./cluster_args.ts";
import { fillFresh, liveKeys } from "./fresh_keys.ts";

const keys = Number(process.argv[2] ?? 1_000_000);
const runtime = (process.argv[3] ?? "bun") as Runtime;
const writesPerSec = Number(process.argv[4] ?? 0);
const SETTLE_MS = 25_000;
const IDLE_MS = 40_000;
if (!installed("wrk")) {
  console.log("skipped: wrk is not installed (apt-get install wrk)");
  process.exit(0);
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** CPU seconds (user + system) of a process, from /proc. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Overwrites one key every 1/writesPerSec s for `ms` (sleeps when there are none); returns the writes answered 204. */
async function trickle(urls: string[], ms: number): Promise<number> {
  if (writesPerSec <= 0) {
    await sleep(ms);
    return 0;
  }
  const end = Date.now() + ms;
  let written = 0;
  for (let i = 0; Date.now() < end; i++) {
    const res = await fetch(`${urls[i % urls.length]}/d/trickle-${i % 1000}`, { method: "PUT", body: `written ${i}` });
    if (res.status === 204) written++;
    await sleep(1000 / writesPerSec);
  }
  return written;
}

const nodes = await startCluster([runtime, runtime, runtime]);
try {
  await fillFresh(nodes[0]!.url, keys);
  await sleep(SETTLE_MS);
  const before = nodes.map((n) => cpuSeconds(n.child.pid!));
  const written = await trickle(nodes.map((n) => n.url), IDLE_MS);
  const percent = nodes.map((n, i) => (100 * (cpuSeconds(n.child.pid!) - before[i]!)) / (IDLE_MS / 1000));
  const held = await Promise.all(nodes.map((n) => liveKeys(n.url)));
  const load = writesPerSec > 0 ? `${written} writes` : "idle";
  console.log(`3 ${runtime} nodes holding ${held.join(" / ")} keys, ${load} over ${IDLE_MS / 1000} s: ${percent.map((p) => `${p.toFixed(1)}%`).join(" / ")} CPU per node`);
} finally {
  await Promise.all(nodes.map((n) => n.stop("SIGKILL")));
}
