/**
 * Rolling operations on real processes, as the README's operations section gives them:
 * every member SIGKILLed and started again at its address (a new, empty member) one at a
 * time, the next only once `mod.ts status` exits 0, while clients write; then every key
 * reads back, and the whole history is linearizable: nothing acknowledged was lost. And with
 * `--read-quorum 1 --write-quorum 3`, one crash: the member leaves the ring, status exits 0,
 * nothing acknowledged is lost.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { detectRuntime } from "../../adapters/mod.ts";
import { checkHistory, type Operation } from "../../lib/check/linearizability.ts";
import { type RunningNode, runCli, type Runtime, startCluster, startNode } from "../support/processes.ts";

const FAST = ["--protocol-period-ms", "300", "--ping-timeout-ms", "150", "--removal-delay-ms", "1000", "--sync-interval-ms", "2000"];
const KEYS = Array.from({ length: 6 }, (_, i) => `key-${i}`);
const RUNTIMES: Runtime[] = ["node", "bun", "deno", "bun", "node"];
const skip = detectRuntime() !== "node" ? "runs once, under the Node runner (the cluster mixes all three runtimes)" : false;

async function until(what: string, limitMs: number, done: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${limitMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Writers through random live nodes, each write recorded with its outcome, until `running()` is false. */
function writers(nodes: () => RunningNode[], running: () => boolean, history: Operation[]): Promise<void[]> {
  let seq = 0;
  return Promise.all([0, 1, 2].map(async (n) => {
    while (running()) {
      const live = nodes();
      const node = live[Math.floor(Math.random() * live.length)]!;
      const key = KEYS[Math.floor(Math.random() * KEYS.length)]!;
      const value = `w${n}-${seq++}`;
      const call = Date.now();
      try {
        const res = await fetch(`${node.url}/d/${key}`, { method: "PUT", body: value, signal: AbortSignal.timeout(3_000) });
        history.push({ kind: "put", key, value, call, ret: res.status === 204 ? Date.now() : undefined });
      } catch {
        history.push({ kind: "put", key, value, call });
      }
      await new Promise((r) => setTimeout(r, 30));
    }
  }));
}

/** Every key read through every node, the answers added to `history`: nothing acknowledged may be missing. */
async function readBack(nodes: RunningNode[], history: Operation[]): Promise<void> {
  for (const node of nodes) {
    for (const key of KEYS) {
      const call = Date.now();
      const res = await fetch(`${node.url}/d/${key}`);
      assert.ok(res.status === 200 || res.status === 404, `GET ${key} through ${node.url}: ${res.status}`);
      history.push({ kind: "get", key, value: res.status === 200 ? await res.text() : null, call, ret: Date.now() });
    }
  }
}

test("a rolling SIGKILL restart of all 5 members, each gated by status exiting 0, under writes: nothing acknowledged lost", { skip, timeout: 240_000 }, async () => {
  const nodes = await startCluster(RUNTIMES, FAST);
  try {
    const history: Operation[] = [];
    let running = true;
    let restarting = -1;
    const load = writers(() => nodes.filter((_, i) => i !== restarting), () => running, history);
    const steps: number[] = [];
    for (let i = 0; i < nodes.length; i++) {
      const started = Date.now();
      restarting = i;
      const old = nodes[i]!;
      await old.stop("SIGKILL");
      const introducer = nodes[(i + 1) % nodes.length]!;
      nodes[i] = await startNode(old.runtime, [String(introducer.port), ...FAST], {}, { port: old.port });
      restarting = -1;
      await until(`status exits 0 after restarting ${old.url}`, 60_000, async () => (await runCli("node", ["status", String(introducer.port)])).code === 0);
      steps.push(Date.now() - started);
    }
    running = false;
    await load;
    console.log(`# rolling restart steps (ms): ${steps.join(", ")}`);
    await readBack(nodes, history);
    const acknowledged = history.filter((op) => op.ret !== undefined && op.kind === "put").length;
    assert.ok(acknowledged > 50, `only ${acknowledged} writes acknowledged`);
    const result = checkHistory(history);
    assert.ok(result.ok, `not linearizable on ${result.key}: an acknowledged write was lost or reordered`);
  } finally {
    await Promise.all(nodes.map((n) => n.stop("SIGKILL")));
  }
});

test("--read-quorum 1 --write-quorum 3, one member SIGKILLed: it leaves the ring, status exits 0, nothing acknowledged lost", { skip, timeout: 120_000 }, async () => {
  const nodes = await startCluster(RUNTIMES, ["--read-quorum", "1", "--write-quorum", "3", ...FAST]);
  try {
    const history: Operation[] = [];
    let running = true;
    const victim = nodes[2]!;
    const live = nodes.filter((n) => n !== victim);
    const load = writers(() => (victim.child.exitCode === null && victim.child.signalCode === null ? nodes : live), () => running, history);
    await new Promise((r) => setTimeout(r, 1_000));
    await victim.stop("SIGKILL");
    await until("status exits 0 with the dead member off the ring", 60_000, async () => (await runCli("node", ["status", String(nodes[0]!.port)])).code === 0);
    const ring = await (await fetch(`${nodes[0]!.url}/cluster/ring`)).json();
    assert.ok(!ring.members.includes(`127.0.0.1:${victim.port}`));
    assert.deepEqual(ring.pins, [], "no range waits");
    running = false;
    await load;
    await readBack(live, history);
    const result = checkHistory(history);
    assert.ok(result.ok, `not linearizable on ${result.key}`);
  } finally {
    await Promise.all(nodes.map((n) => n.stop("SIGKILL")));
  }
});
