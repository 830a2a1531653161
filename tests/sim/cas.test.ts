/**
 * Conditional writes (lib/cas) raced by clients through every node, mixed with plain
 * writes and deletes, under loss, clock skew, partitions, a crash, a paused coordinator
 * and a ring transition: every history must be linearizable. The control replaces the
 * Paxos rounds with a quorum read followed by a plain write: on a contended counter its
 * history is not linearizable on any seed.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { checkHistory } from "../../lib/check/linearizability.ts";
import type { SimCluster } from "../../lib/sim/cluster.ts";
import { readThenWrite, runClients as run, type Scenario } from "../support/cas.ts";
import { seeds, withSeed } from "../support/sim.ts";

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
