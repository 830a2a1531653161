/**
 * Network partitions of several shapes while clients on both sides read, write and delete:
 * every recorded history must be linearizable (the agreed ring and strict quorums leave at
 * most one side able to serve a key). The control runs the same load on a ring that
 * follows liveness (the placement before epochs): both sides acknowledge writes, and the
 * history is not linearizable.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { checkHistory, type Operation } from "../../lib/check/linearizability.ts";
import { seededRandom } from "../../lib/env.ts";
import type { SimCluster } from "../../lib/sim/cluster.ts";
import type { NodeOptions } from "../../lib/node.ts";
import { livenessPlacer } from "../support/liveness_placer.ts";
import { randomOperation } from "../support/history.ts";
import { formRing, seeds, simCluster, withSeed } from "../support/sim.ts";

const KEYS = ["x", "y", "z"];
const CLIENTS = 4;

interface Scenario {
  name: string;
  nodes: number;
  /** Starts the fault at `at` ms into the run; the run heals at `healAt`. */
  fault(c: SimCluster, ids: string[], elapsedMs: number): void;
}

const split = (k: number): Scenario["fault"] => (c, ids) => c.network.partition(ids.slice(0, k), ids.slice(k));

const scenarios: Scenario[] = [
  { name: "2|3", nodes: 5, fault: split(2) },
  { name: "1|4", nodes: 5, fault: split(1) },
  { name: "3|4", nodes: 7, fault: split(3) },
  // The middle node sees both sides; the sides do not see each other.
  { name: "a bridge", nodes: 5, fault: (c, ids) => c.network.cut(ids.slice(0, 2), ids.slice(3)) },
  // 2|3, healed and cut again every 3 s.
  { name: "flapping 2|3", nodes: 5, fault: (c, ids, t) => (Math.floor(t / 3_000) % 2 === 0 ? split(2)(c, ids, t) : c.network.heal()) },
];

interface RunResult {
  history: Operation[];
  acknowledged: number;
}

/** Clients through random nodes for `durationMs`; the fault holds from 1 s until `healAtMs`. */
async function run(seed: number, scenario: Scenario, node: Pick<NodeOptions, "placer"> | undefined, durationMs: number, healAtMs: number, strict = true): Promise<RunResult> {
  const c = simCluster({ seed, network: { minDelayMs: 1, maxDelayMs: 10, loss: 0 }, node });
  for (let i = 0; i < scenario.nodes; i++) c.add();
  assert.ok((await formRing(c, scenario.nodes)) !== undefined, "the ring formed");
  const ids = c.liveIds();
  const random = seededRandom(seed);
  const history: Operation[] = [];
  const started = c.clock.now();
  let running = CLIENTS;
  const client = async (n: number) => {
    for (let i = 0; c.clock.now() - started < durationMs; i++) {
      const key = KEYS[Math.floor(random.next() * KEYS.length)]!;
      const via = c.nodes.get(ids[Math.floor(random.next() * ids.length)]!)!;
      const op = await randomOperation(c, via, key, random.next(), `c${n}-${i}`);
      if (op) history.push(op);
      await new Promise<void>((resolve) => c.clock.setTimeout(resolve, 150 + random.next() * 100));
    }
    running--;
  };
  const clients = Array.from({ length: CLIENTS }, (_, n) => client(n));
  while (running > 0) {
    const t = c.clock.now() - started;
    if (t >= 1_000 && t < healAtMs) scenario.fault(c, ids, t - 1_000);
    else if (t >= healAtMs) c.network.heal();
    await c.run(50);
  }
  await Promise.all(clients);
  // After the heal, every key read through every node: what was acknowledged is there.
  c.network.heal();
  await c.run(5_000);
  for (const key of KEYS) {
    for (const id of ids) {
      const call = c.clock.now();
      let done = false;
      const answer = c.nodes.get(id)!.fetch(new Request(`http://${id}/d/${key}`)).finally(() => (done = true));
      while (!done) await c.run(5);
      const res = await answer;
      if (res.status === 200) history.push({ kind: "get", key, value: await res.text(), call, ret: c.clock.now() });
      else if (res.status === 404) history.push({ kind: "get", key, value: null, call, ret: c.clock.now() });
      else if (strict) assert.fail(`after the heal, GET ${key} through ${id} answered ${res.status}`);
    }
  }
  for (const n of c.nodes.values()) await n.stop();
  const acknowledged = history.filter((op) => op.kind !== "get" && op.ret !== undefined).length;
  return { history, acknowledged };
}

for (const scenario of scenarios) {
  for (const seed of seeds(2, 401)) {
    test(`seed ${seed}: a ${scenario.name} partition for 20 s, clients on every side: linearizable, and readable everywhere after the heal`, () =>
      withSeed(seed, async () => {
        const { history, acknowledged } = await run(seed, scenario, undefined, 30_000, 21_000);
        assert.ok(acknowledged > 20, `only ${acknowledged} writes acknowledged`);
        const result = checkHistory(history);
        assert.ok(result.ok, `not linearizable on key ${result.key}: ${JSON.stringify(history.filter((op) => op.key === result.key))}`);
      }));
  }
}

for (const seed of seeds(2, 401)) {
  test(`control, seed ${seed}: on a ring that follows liveness, a 2|3 partition splits the brain`, () =>
    withSeed(seed, async () => {
      const { history } = await run(seed, scenarios[0]!, { placer: livenessPlacer }, 20_000, 16_000, false);
      assert.equal(checkHistory(history).ok, false, "both sides acknowledged writes: the history cannot be linearizable");
    }));
}
