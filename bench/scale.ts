/**
 * How throughput and tail latency change with the size of the cluster: 3, 6 and 12 nodes
 * (N=3, W=2, R=2) with the load spread over every node, as a load balancer in front of the
 * cluster would spread it. One wrk process per node; 32 connections in all, split between
 * them (at least 2 each). GETs read random keys of 10,000 written first; PUTs write fresh
 * keys. 3 rounds of GET then PUT per size; the round with the median rate is reported.
 * Req/s is the sum over the wrk processes; p50 is the median of theirs and p99 the worst of
 * theirs (wrk's histograms cannot be merged from outside).
 *
 *   npx tsx bench/scale.ts [sizes=3,6,12] [runtime=bun] [seconds=5] [reads=uniform|zipf]
 *
 * On one machine every node shares the same cores, so more nodes cannot mean more
 * throughput: what the table shows is what coordination costs as the ring grows.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Runtime, startCluster } from "../tests/support/processes.ts";
import { installed, median, pool, summedMetrics } from "./cluster_args.ts";
import { type Figures, wrk } from "./wrk.ts";

const sizes = (process.argv[2] ?? "3,6,12").split(",").map(Number);
const runtime = (process.argv[3] ?? "bun") as Runtime;
const seconds = Number(process.argv[4] ?? 5);
const reads = process.argv[5] ?? "uniform";
if (reads !== "uniform" && reads !== "zipf") {
  console.error(`reads must be uniform or zipf: received '${reads}'`);
  process.exit(2);
}
const KEYS = 10_000;
const CONNECTIONS = 32;
const VALUE = "v".repeat(100);
if (!installed("wrk")) {
  console.log("skipped: wrk is not installed (apt-get install wrk)");
  process.exit(0);
}

const dir = mkdtempSync("/tmp/dht-scale-bench-");
const getScript = join(dir, "get.lua");
// zipf: the key of rank k (k0 first) drawn with probability proportional to 1/(k+1), by a
// binary search of the cumulative distribution each wrk thread builds once.
const pickKey =
  reads === "uniform"
    ? `local function pick() return math.random(0, ${KEYS - 1}) end\n`
    : `local cdf = {}\nlocal function build()\n  local sum = 0\n  for i = 1, ${KEYS} do sum = sum + 1 / i end\n  local acc = 0\n  for i = 1, ${KEYS} do acc = acc + 1 / i / sum; cdf[i] = acc end\nend\nlocal function pick()\n  local u, lo, hi = math.random(), 1, ${KEYS}\n  while lo < hi do\n    local mid = math.floor((lo + hi) / 2)\n    if cdf[mid] < u then lo = mid + 1 else hi = mid end\n  end\n  return lo - 1\nend\n`;
writeFileSync(getScript, `${pickKey}init = function(args)\n  math.randomseed(tonumber(args[1]))\n  ${reads === "zipf" ? "build()" : ""}\nend\nrequest = function()\n  return wrk.format("GET", "/d/k" .. pick())\nend\n`);
const putScript = join(dir, "put.lua");
writeFileSync(putScript, `local n = 0\nlocal value = string.rep("v", 100)\ninit = function(args)\n  n = tonumber(args[1])\nend\nrequest = function()\n  n = n + 1\n  return wrk.format("PUT", "/d/fresh" .. n, { ["Content-Type"] = "application/octet-stream" }, value)\nend\n`);

/** One wrk per node at once; the figures of the whole. */
async function spread(urls: string[], script: string, round: number): Promise<Figures> {
  const connections = Math.max(2, Math.floor(CONNECTIONS / urls.length));
  const runs = await Promise.all(urls.map((url, i) => wrk(url, { seconds, connections, script, scriptArgs: [String((round * urls.length + i) * 100_000_000)] })));
  return {
    rate: runs.reduce((sum, r) => sum + r.rate, 0),
    p50: median(runs.map((r) => r.p50)),
    p99: Math.max(...runs.map((r) => r.p99)),
    errors: runs.reduce((sum, r) => sum + r.errors, 0),
  };
}

/** Reads that took the reply of another read's get. */
const SHARED = "dht_replica_reads_shared_total";

/** A GET round, with the share of its reads that joined another's get. */
async function getRound(urls: string[], round: number): Promise<Figures & { shared: number }> {
  const shared = async () => (await summedMetrics(urls, [SHARED]))[SHARED];
  const before = await shared();
  const figures = await spread(urls, getScript, round);
  return { ...figures, shared: (await shared()) - before };
}

const middle = <F extends Figures>(rounds: F[]): F => [...rounds].sort((a, b) => a.rate - b.rate)[Math.floor((rounds.length - 1) / 2)]!;
const cell = (f: Figures) => `${Math.round(f.rate).toLocaleString("en-US")} | ${f.p50.toFixed(2)} / ${f.p99.toFixed(2)}${f.errors > 0 ? ` (${f.errors} errors)` : ""}`;

try {
  console.log(`${runtime} nodes, N=3 W=2 R=2, ${CONNECTIONS} connections spread over every node, ${reads} reads of ${KEYS} keys, ${seconds} s rounds, median of 3`);
  console.log("| nodes | GET req/s | GET p50 / p99 ms | reads shared | PUT req/s | PUT p50 / p99 ms |");
  console.log("|---|---|---|---|---|---|");
  for (const size of sizes) {
    const nodes = await startCluster(Array.from({ length: size }, () => runtime));
    try {
      const urls = nodes.map((n) => n.url);
      await pool(KEYS, 32, async (i) => {
        const res = await fetch(`${urls[i % urls.length]}/d/k${i}`, { method: "PUT", body: VALUE });
        if (!res.ok) throw new Error(`PUT k${i}: ${res.status} ${await res.text()}`);
      });
      const gets: Array<Figures & { shared: number }> = [];
      const puts: Figures[] = [];
      for (let round = 0; round < 3; round++) {
        gets.push(await getRound(urls, round));
        puts.push(await spread(urls, putScript, round));
      }
      const get = middle(gets);
      console.log(`| ${size} | ${cell(get)} | ${((100 * get.shared) / (get.rate * seconds)).toFixed(1)}% | ${cell(middle(puts))} |`);
    } finally {
      await Promise.all(nodes.map((n) => n.stop("SIGKILL")));
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
