/**
 * Conditional writes (lib/cas) raced by clients through every node, mixed with plain
 * writes and deletes, under loss, clock skew, partitions, a crash, a paused coordinator
 * and a ring transition: every history must be linearizable. The control replaces the
 * Paxos rounds with a quorum read followed by a plain write: on a contended counter its
 * history is not linearizable on any seed.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { checkHistory, type Operation } from "../../lib/check/linearizability.ts";
import { seededRandom } from "../../lib/env.ts";
import type { NodeOptions } from "../../lib/node.ts";
import type { SimCluster } from "../../lib/sim/cluster.ts";
import { conditionalWrite, readKey, readThenWrite } from "../support/cas.ts";
import { formRing, seeds, simCluster, withSeed } from "../support/sim.ts";

interface Scenario {
  name: string;
  nodes: number;
  keys: string[];
  /** Share of rounds that make a plain PUT or DELETE instead. */
  plain: number;
  /** Share of conditional writes that are conditional DELETEs. */
  deletes: number;
  /** Called every 50 ms with the time since the clients started. */
  fault?(c: SimCluster, ids: string[], elapsedMs: number): void;
}

const split = (k: number) => (c: SimCluster, ids: string[], t: number) => (t >= 1_000 && t < 7_000 ? c.network.partition(ids.slice(0, k), ids.slice(k)) : c.network.heal());

const scenarios: Scenario[] = [
  { name: "loss and clock skew", nodes: 5, keys: ["x", "y"], plain: 0.2, deletes: 0.1, fault: (c) => void (c.network.options.loss = 0.03) },
  // Plain PUTs and DELETEs between conditional writes' reads and accepts, on one key.
  { name: "plain writes racing on one key", nodes: 5, keys: ["x"], plain: 0.4, deletes: 0.1, fault: (c) => void (c.network.options.loss = 0.01) },
  { name: "2|3 partition", nodes: 5, keys: ["x", "y"], plain: 0.2, deletes: 0.1, fault: split(2) },
  { name: "1|4 partition", nodes: 5, keys: ["x", "y"], plain: 0.2, deletes: 0.1, fault: split(1) },
  { name: "bridge", nodes: 5, keys: ["x", "y"], plain: 0.2, deletes: 0.1, fault: (c, ids, t) => (t >= 1_000 && t < 7_000 ? c.network.cut(ids.slice(0, 2), ids.slice(3)) : c.network.heal()) },
  { name: "crash", nodes: 5, keys: ["x", "y"], plain: 0.2, deletes: 0.1, fault: (c, ids, t) => void (t >= 2_000 && !c.network.isDown(ids[1]!) && c.crash(ids[1]!)) },
  {
    // Every message from and to one node waits 2 s: its proposals arrive after others' rounds.
    name: "paused coordinator",
    nodes: 5,
    keys: ["x"],
    plain: 0.1, deletes: 0.1,
    fault: (c, ids, t) => c.network.slow(ids[0]!, t >= 1_000 && t < 5_000 ? 2_000 : 0),
  },
  { name: "ring transition (a join)", nodes: 4, keys: ["x", "y"], plain: 0.2, deletes: 0.1, fault: (c, _ids, t) => void (t >= 1_000 && c.liveIds().length === 4 && c.add()) },
];

async function run(seed: number, scenario: Scenario, node?: Pick<NodeOptions, "conditional">, clients = 6, durationMs = 10_000) {
  const c = simCluster({ seed, network: { minDelayMs: 1, maxDelayMs: 10, loss: 0 }, skewMs: (i) => (i === 2 ? -3_600_000 : i === 3 ? 90_000 : 0), node });
  for (let i = 0; i < scenario.nodes; i++) c.add();
  assert.ok((await formRing(c, scenario.nodes)) !== undefined, "the ring formed");
  const ids = c.liveIds();
  const random = seededRandom(seed);
  const history: Operation[] = [];
  const statuses = new Map<number, number>();
  const started = c.clock.now();
  let running = clients;
  const via = () => {
    const live = c.liveIds().filter((id) => !c.network.isDown(id));
    return c.nodes.get(live[Math.floor(random.next() * live.length)]!)!;
  };
  const client = async (n: number) => {
    for (let i = 0; c.clock.now() - started < durationMs; i++) {
      const key = scenario.keys[Math.floor(random.next() * scenario.keys.length)]!;
      const read = await readKey(c, via(), key, history);
      const roll = random.next();
      const tag = `c${n}-${i}`;
      if (read !== undefined && roll >= scenario.plain) {
        const count = read ? Number(read.value.split(":")[0]) : 0;
        const value = roll > 1 - scenario.deletes && read ? null : `${count + 1}:${tag}`;
        const status = await conditionalWrite(c, via(), key, read, value, history);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
      } else {
        const node = via();
        const call = c.clock.now();
        const remove = roll < scenario.plain / 3;
        const res = await node.fetch(new Request(`http://${node.id}/d/${key}`, { method: remove ? "DELETE" : "PUT", body: remove ? undefined : `0:${tag}` }));
        await res.body?.cancel();
        const ret = res.status === 204 || res.status === 404 ? c.clock.now() : undefined;
        history.push(remove ? { kind: "delete", key, found: res.status === 204 ? true : res.status === 404 ? false : undefined, call, ret } : { kind: "put", key, value: `0:${tag}`, call, ret });
      }
    }
    running--;
  };
  const all = Array.from({ length: clients }, (_, n) => client(n));
  while (running > 0) {
    scenario.fault?.(c, ids, c.clock.now() - started);
    await c.run(50);
  }
  await Promise.all(all);
  // A last read of every key, after the faults: what the counter came to.
  c.network.heal();
  for (const id of ids) c.network.slow(id, 0);
  for (const key of scenario.keys) {
    const node = via();
    await c.runUntil(readKey(c, node, key, history), `GET ${key} after the run`);
  }
  return { history, statuses };
}

for (const scenario of scenarios) {
  for (const seed of seeds(2, 301)) {
    test(`seed ${seed}: conditional writes under ${scenario.name} are linearizable`, () =>
      withSeed(seed, async () => {
        const { history, statuses } = await run(seed, scenario);
        assert.ok((statuses.get(204) ?? 0) > 0, `some conditional writes won: ${JSON.stringify([...statuses])}`);
        const result = checkHistory(history);
        assert.ok(result.ok, `not linearizable on key ${result.key}: ${JSON.stringify(history.filter((op) => op.key === result.key))}`);
      }));
  }
}

const counter: Scenario = { name: "a contended counter", nodes: 5, keys: ["n"], plain: 0, deletes: 0 };

for (const seed of seeds(3, 401)) {
  test(`seed ${seed}: eight clients incrementing one counter by compare-and-set: linearizable, and no increment lost`, () =>
    withSeed(seed, async () => {
      const { history, statuses } = await run(seed, counter, undefined, 8, 5_000);
      assert.ok(checkHistory(history).ok, "linearizable");
      const wins = history.filter((op) => op.kind === "cas" && op.won && op.ret !== undefined).length;
      const unknown = history.filter((op) => op.kind === "cas" && op.ret === undefined).length;
      const reads = history.filter((op) => op.kind === "get" && op.value);
      const last = Math.max(0, ...reads.map((op) => Number((op as { value: string }).value.split(":")[0])));
      assert.ok(last >= wins && last <= wins + unknown, `counter ${last}, ${wins} wins, ${unknown} unknown (${JSON.stringify([...statuses])})`);
    }));

  test(`control, seed ${seed}: with a read-then-write in place of Paxos, the counter's history is not linearizable`, () =>
    withSeed(seed, async () => {
      const { history } = await run(seed, counter, { conditional: readThenWrite }, 8, 5_000);
      assert.equal(checkHistory(history).ok, false);
    }));
}
