/**
 * Re-replication on real processes: load K keys of 100 bytes into 6 nodes, then
 *   - crash: SIGKILL one; time until every survivor marks it dead, and until every key is
 *     back on N = 3 nodes (the survivors' key counts add up to 3K and every node reports a
 *     quiet round on the same ring);
 *   - join: start a 7th node; time until every key is on exactly N nodes again, and how
 *     many keys moved to the newcomer against the ideal share 3K / 7.
 * Default timings (period 1 s, suspicion mult 4, sync interval 10 s) unless given after --.
 *
 *   npx tsx bench/rebalance.ts [keys=10000] [runtime=bun] [-- node options]
 */
import { type RunningNode, startNode } from "../tests/support/processes.ts";
import { clusterArgs, pool, summedMetrics } from "./cluster_args.ts";

const { keys, runtime, extra } = clusterArgs();
const NODES = 6;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const json = async (n: RunningNode, path: string) => (await fetch(`${n.url}${path}`)).json();

/** Polls every 100 ms until `done`; returns the milliseconds since `since`. */
async function until(since: number, done: () => Promise<boolean>, limitMs = 300_000): Promise<number> {
  for (;;) {
    try {
      if (await done()) return Date.now() - since;
    } catch {
      // A node busy or going: ask again.
    }
    if (Date.now() - since > limitMs) throw new Error(`not done after ${limitMs} ms`);
    await sleep(100);
  }
}

/** Entries pushed and entries stored by stabilisation, summed over `nodes` (from /metrics). */
async function traffic(nodes: RunningNode[]): Promise<{ sent: number; stored: number }> {
  const m = await summedMetrics(nodes.map((n) => n.url), ["dht_sync_keys_sent_total", "dht_antientropy_repairs_total", "dht_rebalanced_keys_total"]);
  return { sent: m.dht_sync_keys_sent_total, stored: m.dht_antientropy_repairs_total + m.dht_rebalanced_keys_total };
}

async function level(nodes: RunningNode[], exactCopies: boolean): Promise<boolean> {
  const views = await Promise.all(nodes.map((n) => json(n, "/cluster/sync")));
  const copies = views.reduce((sum, v) => sum + v.liveKeys, 0);
  const rings = new Set(views.map((v) => v.ringChecksum));
  // Every node an owner in one stable epoch (a newcomer is not one until a transition adds it).
  const owners = await Promise.all(nodes.map((n) => json(n, "/cluster/ring")));
  const formed = owners.every((r) => r.phase === "stable" && r.members.length === nodes.length);
  return formed && (exactCopies ? copies === 3 * keys : copies >= 3 * keys) && rings.size === 1 && views.every((v) => v.settled);
}

const first = await startNode(runtime, extra);
let nodes = [first, ...(await Promise.all(Array.from({ length: NODES - 1 }, () => startNode(runtime, [String(first.port), ...extra]))))];
try {
  await until(Date.now(), async () => (await Promise.all(nodes.map((n) => json(n, "/cluster/ring")))).every((r) => r.members.length === NODES));
  const value = new Uint8Array(100).fill(120);
  let started = Date.now();
  await pool(keys, 64, async (i) => {
    const res = await fetch(`${nodes[i % NODES]!.url}/d/key-${i}`, { method: "PUT", body: value });
    if (res.status !== 204) throw new Error(`PUT key-${i}: ${res.status}`);
  });
  console.log(`loaded ${keys} keys of 100 bytes into ${NODES} ${runtime} nodes in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  await until(Date.now(), () => level(nodes, true));

  const before = await traffic(nodes);
  const victim = nodes[3]!;
  const victimId = `127.0.0.1:${victim.port}`;
  started = Date.now();
  await victim.stop("SIGKILL");
  nodes = nodes.filter((n) => n !== victim);
  const detectedMs = await until(started, async () =>
    (await Promise.all(nodes.map((n) => json(n, "/cluster/members")))).every((v) => v.members.every((m: { id: string; state: string }) => m.id !== victimId || m.state === "dead")));
  // Ownership is not liveness: the dead member keeps its ranges until an agreed epoch removes it.
  const removedMs = await until(started, async () =>
    (await Promise.all(nodes.map((n) => json(n, "/cluster/ring")))).every((r) => r.phase === "stable" && !r.members.includes(victimId)));
  const replicatedMs = await until(started, () => level(nodes, true));
  const afterCrash = await traffic(nodes);
  console.log(`crash: all survivors marked it dead at ${(detectedMs / 1000).toFixed(1)} s; out of the ring at ${(removedMs / 1000).toFixed(1)} s; every key back on 3 nodes at ${(replicatedMs / 1000).toFixed(1)} s (${((replicatedMs - detectedMs) / 1000).toFixed(1)} s after detection); ${afterCrash.sent - before.sent} entries pushed, ${afterCrash.stored - before.stored} stored`);

  started = Date.now();
  const newcomer = await startNode(runtime, [String(first.port), ...extra]);
  nodes = [...nodes, newcomer];
  const joinedMs = await until(started, () => level(nodes, true));
  const moved = (await json(newcomer, "/cluster/sync")).liveKeys;
  const afterJoin = await traffic(nodes);
  const ideal = (3 * keys) / nodes.length;
  console.log(`join: every key on exactly 3 of ${nodes.length} nodes ${(joinedMs / 1000).toFixed(1)} s after the newcomer started; it received ${moved} keys (${((100 * moved) / (3 * keys)).toFixed(1)}% of the ${3 * keys} copies; ideal share ${Math.round(ideal)}, ${((100 * moved) / ideal).toFixed(0)}% of it); ${afterJoin.sent - afterCrash.sent} entries pushed, ${afterJoin.stored - afterCrash.stored} stored`);
} finally {
  await Promise.all(nodes.map((n) => n.stop("SIGKILL")));
}
