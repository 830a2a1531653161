/**
 * A rolling restart on real processes, as the README's operations section gives it: load K
 * keys of 100 bytes into 5 nodes, then for each node in turn SIGKILL it, start a new process
 * at its address (a new, empty member), and wait until `mod.ts status` exits 0 before the
 * next. Prints each step's time (kill to status 0) and, at the end, that every key reads
 * back. Default timings unless given after --.
 *
 *   npx tsx bench/rolling_restart.ts [keys=10000] [runtime=bun] [-- node options]
 */
import { spawnSync } from "node:child_process";
import { root, type RunningNode, startNode } from "../tests/support/processes.ts";
import { clusterArgs, pool } from "./cluster_args.ts";

const { keys, runtime, extra } = clusterArgs();
const NODES = 5;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function statusOk(port: number): boolean {
  const r = spawnSync("node", ["--import", "tsx", "mod.ts", "status", String(port)], { cwd: root, encoding: "utf8" });
  return r.status === 0;
}

const nodes: RunningNode[] = [];
try {
  nodes.push(await startNode(runtime, extra));
  for (let i = 1; i < NODES; i++) nodes.push(await startNode(runtime, [String(nodes[0]!.port), ...extra]));
  while (!statusOk(nodes[0]!.port)) await sleep(250);
  const value = "x".repeat(100);
  const loadStart = Date.now();
  await pool(keys, 32, async (i) => {
    const res = await fetch(`${nodes[i % NODES]!.url}/d/key-${i}`, { method: "PUT", body: value });
    if (res.status !== 204) throw new Error(`PUT key-${i}: ${res.status}`);
  });
  console.log(`loaded ${keys} keys into ${NODES} ${runtime} nodes in ${((Date.now() - loadStart) / 1000).toFixed(1)} s`);
  const steps: number[] = [];
  for (let i = 0; i < NODES; i++) {
    const started = Date.now();
    const old = nodes[i]!;
    await old.stop("SIGKILL");
    const introducer = nodes[(i + 1) % NODES]!;
    nodes[i] = await startNode(runtime, [String(introducer.port), ...extra], {}, { port: old.port });
    while (!statusOk(introducer.port)) await sleep(250);
    steps.push(Date.now() - started);
    console.log(`step ${i + 1}: ${old.url} restarted, status 0 after ${(steps.at(-1)! / 1000).toFixed(1)} s`);
  }
  let missing = 0;
  await pool(keys, 32, async (i) => {
    const res = await fetch(`${nodes[(i + 1) % NODES]!.url}/d/key-${i}`);
    if (res.status !== 200 || (await res.text()) !== value) missing++;
  });
  const mean = steps.reduce((a, b) => a + b, 0) / steps.length;
  console.log(`${keys} keys, ${runtime}: steps ${steps.map((s) => (s / 1000).toFixed(1)).join(", ")} s (mean ${(mean / 1000).toFixed(1)} s); keys missing afterwards: ${missing}`);
} finally {
  await Promise.all(nodes.map((n) => n.stop("SIGKILL")));
}
