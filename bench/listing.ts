/**
 * Listing many keys: load K keys of 100 bytes into 3 nodes with wrk (bench/put.lua), then
 * list them all in pages of 1,000 through one node; prints the time, the pages, and each
 * node's resident memory before and at its highest during the listing (sampled from
 * /proc every 20 ms), so a page's cost shows against the store's.
 *
 *   npx tsx bench/listing.ts [keys=1000000] [runtime=bun] [-- node options]
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { root, startCluster } from "../tests/support/processes.ts";
import { clusterArgs } from "./cluster_args.ts";

const { keys, runtime, extra } = clusterArgs(process.argv.slice(2).length ? process.argv.slice(2) : ["1000000"]);
const rssMiB = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) / 1024;

/** A fetch tried twice: a keep-alive connection the server closed while wrk ran fails once. */
const fetchAgain = (url: string) => fetch(url).catch(() => fetch(url));

const nodes = await startCluster([runtime, runtime, runtime], extra);
try {
  const started = Date.now();
  // wrk runs for a time, not a count: runs of 10 s, each starting its keys where the last
  // one's could have reached, until the node holds enough (one fresh key per request).
  for (let run = 0; ; run++) {
    const health = await (await fetchAgain(`${nodes[0]!.url}/health`)).json();
    if (health.liveKeys >= keys) break;
    console.log(`  ${health.liveKeys} keys on ${nodes[0]!.url} after ${((Date.now() - started) / 1000).toFixed(0)} s`);
    spawnSync("wrk", ["-t1", "-c32", "-d10s", "-s", `${root}bench/put.lua`, nodes[0]!.url, "--", String(run * 1_000_000)], { encoding: "utf8" });
  }
  console.log(`loaded ${keys}+ keys into 3 ${runtime} nodes in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  const pids = nodes.map((n) => n.child.pid!);
  const before = pids.map(rssMiB);
  const peak = [...before];
  const sampler = setInterval(() => pids.forEach((pid, i) => (peak[i] = Math.max(peak[i]!, rssMiB(pid)))), 20);
  const t0 = performance.now();
  let listed = 0;
  let pages = 0;
  for (let after: string | null = null; ; ) {
    const res: Response = await fetchAgain(`${nodes[1]!.url}/d?prefix=bench-&limit=1000${after ? `&after=${encodeURIComponent(after)}` : ""}`);
    const page: { keys: string[]; next: string | null } = await res.json();
    if (res.status !== 200) throw new Error(`${res.status} ${JSON.stringify(page)}`);
    if (pages % 100 === 0) console.log(`  page ${pages}: ${listed} keys`);
    listed += page.keys.length;
    pages++;
    after = page.next;
    if (!after) break;
  }
  const seconds = (performance.now() - t0) / 1000;
  clearInterval(sampler);
  console.log(`listed ${listed} keys in ${pages} pages of 1,000 in ${seconds.toFixed(1)} s (${(listed / seconds).toFixed(0)} keys/s)`);
  console.log(`RSS MiB per node, before → peak during the listing: ${before.map((b, i) => `${b.toFixed(0)} → ${peak[i]!.toFixed(0)}`).join(", ")}`);
} finally {
  await Promise.all(nodes.map((n) => n.stop()));
}
