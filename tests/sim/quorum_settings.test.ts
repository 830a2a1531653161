/**
 * Every quorum setting: a dead member never blocks its own removal where a quorum of every
 * range it owns survives. A fence needs a majority of each owner set to acknowledge the new
 * epoch (every completed read or write involves max(R, W) owners of its read set), so with
 * `--read-quorum 1 --write-quorum 3` one crash leaves the ring and every range is back on
 * three live owners; with `--write-quorum 1 --read-quorum 3` a write acknowledged by the dead
 * member alone may exist, so its ranges have lost their quorum and wait for `recover`.
 * A member cut off while its ranges move, reading through itself with R = 1: linearizable;
 * the control reads at `consistency=one` and is not.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { checkHistory, type Operation } from "../../lib/check/linearizability.ts";
import { seededRandom } from "../../lib/env.ts";
import { ringPosition } from "../../lib/ring/hash.ts";
import { lostRanges } from "../../lib/topology/lost.ts";
import { randomOperation } from "../support/history.ts";
import { formRing, seeds, simCluster, waitFor, withSeed } from "../support/sim.ts";

const NODES = 5;

async function oneCrash(seed: number, readQuorum: number, writeQuorum: number) {
  const config = { readQuorum, writeQuorum, removalDelayMs: 1_000 };
  const c = simCluster({ seed, config });
  for (let i = 0; i < NODES; i++) c.add();
  assert.ok((await formRing(c, NODES)) !== undefined);
  const dead = c.liveIds()[2]!;
  await c.crash(dead);
  const node = c.nodes.get(c.liveIds()[0]!)!;
  const removedMs = await waitFor(c, 60_000, () => node.topology.state.phase === "stable" && !node.topology.state.members.some((m) => m.id === dead));
  assert.ok(removedMs !== undefined, `still on the ring: ${node.driver.reason}`);
  return { c, node, dead, quorum: { replicas: 3, readQuorum, writeQuorum } };
}

for (const seed of seeds(2, 901)) {
  test(`seed ${seed}: R = 1, W = 3: one crash leaves the ring and every range is back on three live owners, none pinned`, () =>
    withSeed(seed, async () => {
      const { c, node, dead } = await oneCrash(seed, 1, 3);
      assert.deepEqual(node.topology.state.pins, [], "no range waits: a majority of every owner set survives");
      for (let i = 0; i < 50; i++) assert.ok(!node.topology.layout.placement(ringPosition(`k${i}`)).writes.flat().includes(dead));
      for (const n of c.nodes.values()) await n.stop();
    }));

  test(`seed ${seed}: W = 1, R = 3: one crash leaves the ring, but its ranges lost their quorum (a write it alone acknowledged may exist)`, () =>
    withSeed(seed, async () => {
      const { c, node, dead, quorum } = await oneCrash(seed, 3, 1);
      const lost = lostRanges(node.topology.state, quorum);
      assert.ok(lost.length > 0 && lost.every((l) => l.dead.includes(dead)));
      for (const n of c.nodes.values()) await n.stop();
    }));
}

/** R = 1, W = 3: one member cut off from four; it reads through itself while the four take its ranges and write on. */
async function cutOffReader(seed: number, readPath: string): Promise<Operation[]> {
  const c = simCluster({ seed, config: { readQuorum: 1, writeQuorum: 3, removalDelayMs: 1_000 } });
  for (let i = 0; i < NODES; i++) c.add();
  assert.ok((await formRing(c, NODES)) !== undefined);
  const ids = c.liveIds();
  const isolated = ids[3]!;
  const keys = Array.from({ length: 200 }, (_, i) => `k${i}`).filter((k) => c.nodes.get(isolated)!.topology.layout.placement(ringPosition(k)).read.includes(isolated)).slice(0, 3);
  const random = seededRandom(seed);
  const history: Operation[] = [];
  c.network.partition([isolated], ids.filter((id) => id !== isolated));
  let stop = false;
  const reader = (async () => {
    for (let i = 0; !stop; i++) {
      const key = keys[i % keys.length]!;
      const call = c.clock.now();
      const res = await c.nodes.get(isolated)!.fetch(new Request(`http://${isolated}/d/${key}${readPath}`));
      if (res.status === 200 || res.status === 404) history.push({ kind: "get", key, value: res.status === 200 ? await res.text() : null, call, ret: c.clock.now() });
      await new Promise<void>((r) => c.clock.setTimeout(r, 100));
    }
  })();
  const writers = [0, 1].map(async (n) => {
    for (let i = 0; !stop; i++) {
      const op = await randomOperation(c, c.nodes.get(ids[n]!)!, keys[i % keys.length]!, random.next() * 0.45, `w${n}-${i}`);
      if (op) history.push(op);
      await new Promise<void>((r) => c.clock.setTimeout(r, 150));
    }
  });
  const others = ids.filter((id) => id !== isolated);
  await waitFor(c, 60_000, () => others.every((id) => !c.nodes.get(id)!.topology.state.members.some((m) => m.id === isolated)));
  await c.run(5_000);
  stop = true;
  await c.runUntil(Promise.all([reader, ...writers]), "the last operations", 20_000);
  for (const n of c.nodes.values()) await n.stop();
  assert.ok(history.some((op) => op.kind === "put" && op.ret !== undefined), "writes went on among the four");
  return history;
}

for (const seed of seeds(2, 911)) {
  test(`seed ${seed}: R = 1: a member cut off reads through itself while its ranges move away: linearizable`, () =>
    withSeed(seed, async () => {
      const result = checkHistory(await cutOffReader(seed, ""));
      assert.ok(result.ok, `not linearizable on ${result.key}`);
    }));

  test(`control, seed ${seed}: the same reads at consistency=one (one owner's word) are not linearizable`, () =>
    withSeed(seed, async () => {
      assert.equal(checkHistory(await cutOffReader(seed, "?consistency=one")).ok, false);
    }));
}
