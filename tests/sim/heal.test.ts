/**
 * Back to service quickly after a heal. One member hears nobody for 30 s while everything it
 * sends still arrives (one-way links): the others declare it dead and take it off the ring;
 * it holds most of them dead (its Lifeguard score slows its own probes). Once the links
 * heal, every node serves every key within 5 s, and the member is back on the ring within
 * 10 s: it pings members it holds dead (every period, since it holds most of them dead),
 * carrying their death so a live one refutes, and their acks tell it it was declared dead,
 * so it refutes too; it then learns it was removed and rejoins. Linearizable throughout.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { checkHistory, type Operation } from "../../lib/check/linearizability.ts";
import { seededRandom } from "../../lib/env.ts";
import { randomOperation } from "../support/history.ts";
import { formRing, seeds, simCluster, waitFor, withSeed } from "../support/sim.ts";

const KEYS = 30;
const NODES = 5;

/** Every key read through every live node answers 200: how long after the heal that took. */
async function everyNodeServesEveryKey(c: ReturnType<typeof simCluster>): Promise<boolean> {
  const reads = c.liveIds().flatMap((id) => Array.from({ length: KEYS }, (_, i) => Promise.resolve(c.nodes.get(id)!.fetch(new Request(`http://${id}/d/k${i}`))).then((r) => r.status)));
  let pending = reads.length;
  for (const r of reads) void r.finally(() => pending--);
  for (let i = 0; i < 400 && pending > 0; i++) await c.run(5);
  if (pending > 0) return false;
  return (await Promise.all(reads)).every((s) => s === 200);
}

for (const seed of seeds(2, 801)) {
  test(`seed ${seed}: a member deaf for 30 s (one-way links) serves every key, with every other node, within 5 s of the heal, and is a member again within 10 s; linearizable`, () =>
    withSeed(seed, async () => {
      const c = simCluster({ seed, network: { minDelayMs: 1, maxDelayMs: 5, loss: 0 } });
      for (let i = 0; i < NODES; i++) c.add();
      assert.ok((await formRing(c, NODES)) !== undefined);
      const ids = c.liveIds();
      for (let i = 0; i < KEYS; i++) {
        const res = await c.runUntil(c.nodes.get(ids[i % NODES]!)!.fetch(new Request(`http://x/d/k${i}`, { method: "PUT", body: `v${i}` })), "PUT");
        assert.equal(res.status, 204);
      }
      const random = seededRandom(seed);
      const history: Operation[] = [];
      let stop = false;
      const clients = [0, 1, 2].map(async (n) => {
        for (let i = 0; !stop; i++) {
          const via = c.nodes.get(ids[Math.floor(random.next() * NODES)]!)!;
          const op = await randomOperation(c, via, ["x", "y"][i % 2]!, random.next(), `c${n}-${i}`);
          if (op) history.push(op);
          await new Promise<void>((resolve) => c.clock.setTimeout(resolve, 150 + random.next() * 100));
        }
      });

      const deaf = ids[3]!;
      c.network.deafen([deaf]);
      const deafenedAt = c.clock.now();
      const others = ids.filter((id) => id !== deaf);
      assert.ok(await waitFor(c, 30_000, () => others.every((id) => !c.nodes.get(id)!.topology.state.members.some((m) => m.id === deaf))) !== undefined, "the others took it off the ring");
      await c.run(Math.max(0, 30_000 - (c.clock.now() - deafenedAt))); // the rest of the 30 s

      c.network.heal();
      const healedAt = c.clock.now();
      let served = false;
      while (!served && c.clock.now() - healedAt < 5_000) served = await everyNodeServesEveryKey(c);
      assert.ok(served, `every node served every key within 5 s of the heal (not after ${c.clock.now() - healedAt} ms)`);
      // Readmitted soon too (before, it waited for a push-pull to reach a member it held dead: ~17 s here).
      assert.ok((await formRing(c, NODES, 10_000 - (c.clock.now() - healedAt))) !== undefined, "a member again within 10 s of the heal");
      stop = true;
      await c.runUntil(Promise.all(clients), "the clients' last operations", 20_000);
      const result = checkHistory(history);
      assert.ok(result.ok, `not linearizable on ${result.key}`);
      for (const n of c.nodes.values()) await n.stop();
    }));
}
