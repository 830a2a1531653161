/**
 * Overwrites through a node that owns none of the keys: the write that keeps ABD's two
 * phases (docs/replication.md). A 4-node cluster (N=3, W=2, R=2); 16 keys the fourth node
 * does not own are written first, then wrk overwrites them through that node for 5 s with
 * 8 connections. The first phase asks the owners for versions only, so a large value is
 * not sent back to the coordinator twice before it writes.
 *
 *   npx tsx bench/overwrite_away.ts [value-bytes=262144] [runtime=bun]
 *
 * Skips, saying so, where `wrk` is not installed.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Runtime, startCluster } from "../tests/support/processes.ts";
import { installed } from "./cluster_args.ts";
import { wrk } from "./wrk.ts";

const size = Number(process.argv[2] ?? 262_144);
const runtime = (process.argv[3] ?? "bun") as Runtime;
const KEYS = 16;
if (!(Number.isInteger(size) && size > 0)) {
  console.error(`value-bytes must be a positive integer: received '${process.argv[2]}'`);
  process.exit(2);
}
if (!installed("wrk")) {
  console.log("skipped: wrk is not installed (apt-get install wrk)");
  process.exit(0);
}

const dir = mkdtempSync("/tmp/dht-overwrite-bench-");
const nodes = await startCluster([runtime, runtime, runtime, runtime]);
try {
  const away = nodes[3]!;
  const keys: string[] = [];
  for (let i = 0; keys.length < KEYS; i++) {
    const { replicas } = await (await fetch(`${nodes[0]!.url}/cluster/locate/big${i}`)).json();
    if (!(replicas as string[]).includes(`127.0.0.1:${away.port}`)) keys.push(`big${i}`);
  }
  for (const key of keys) {
    const res = await fetch(`${nodes[0]!.url}/d/${key}`, { method: "PUT", body: new Uint8Array(size) });
    if (!res.ok) throw new Error(`PUT ${key}: ${res.status} ${await res.text()}`);
  }
  const script = join(dir, "overwrite.lua");
  const list = keys.map((k) => `"${k}"`).join(", ");
  writeFileSync(script, `local value = string.rep("v", ${size})\nlocal keys = { ${list} }\nlocal n = 0\nrequest = function()\n  n = n + 1\n  return wrk.format("PUT", "/d/" .. keys[n % ${KEYS} + 1], { ["Content-Type"] = "application/octet-stream" }, value)\nend\n`);
  const r = await wrk(away.url, { seconds: 5, connections: 8, script });
  console.log(`${runtime}, 4 nodes, ${size}-byte values overwritten through a node owning none of the ${KEYS} keys: ${Math.round(r.rate)} PUT/s, p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms${r.errors > 0 ? `, ${r.errors} errors` : ""}`);
} finally {
  await Promise.all(nodes.map((n) => n.stop("SIGKILL")));
  rmSync(dir, { recursive: true, force: true });
}
