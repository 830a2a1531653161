/**
 * Concurrent clients against 5 simulated nodes (N = 3, W = 2, R = 2) with message loss,
 * varied delay and one node's clock an hour behind; the recorded history of every seed
 * must be linearizable. A 503 leaves a write's outcome unknown (it may have taken effect).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { checkHistory, type Operation } from "../../lib/check/linearizability.ts";
import { seededRandom } from "../../lib/env.ts";
import { randomOperation } from "../support/history.ts";
import { formRing, seeds, simCluster, withSeed } from "../support/sim.ts";

const CLIENTS = 4;
const OPS_PER_CLIENT = 25;
const KEYS = ["x", "y", "z"];

for (const seed of seeds(3, 101)) {
  test(`seed ${seed}: concurrent clients under loss, delay and clock skew see a linearizable store`, () =>
    withSeed(seed, async () => {
      const c = simCluster({
        seed,
        network: { minDelayMs: 1, maxDelayMs: 20, loss: 0 },
        skewMs: (i) => (i === 2 ? -3_600_000 : i === 3 ? 90_000 : 0),
      });
      for (let i = 0; i < 5; i++) c.add();
      for (let i = 0; i < 100 && ![...c.nodes.values()].every((n) => n.swim.liveCount() === 5); i++) await c.run(200);
      assert.ok((await formRing(c, 5)) !== undefined, "the ring formed");
      c.network.options.loss = 0.03;

      const random = seededRandom(seed);
      const ids = c.liveIds();
      const history: Operation[] = [];
      let running = CLIENTS;
      const client = async (n: number) => {
        for (let i = 0; i < OPS_PER_CLIENT; i++) {
          const key = KEYS[Math.floor(random.next() * KEYS.length)]!;
          const node = c.nodes.get(ids[Math.floor(random.next() * ids.length)]!)!;
          const op = await randomOperation(c, node, key, random.next(), `c${n}-${i}`);
          if (op) history.push(op);
        }
        running--;
      };
      const clients = Array.from({ length: CLIENTS }, (_, n) => client(n));
      for (let i = 0; i < 20_000 && running > 0; i++) await c.run(5);
      await Promise.all(clients);

      const answered = history.filter((op) => op.ret !== undefined).length;
      assert.ok(answered > CLIENTS * OPS_PER_CLIENT * 0.5, `only ${answered} operations answered`);
      const result = checkHistory(history);
      assert.ok(result.ok, `not linearizable on key ${result.key}: ${JSON.stringify(history.filter((op) => op.key === result.key))}`);
    }));
}

test("with no loss and every node up, concurrent clients on a few keys never get a 503", async () => {
  // Reads that repair a write onto its replicas before the write's own messages arrive
  // must not make that write look refused.
  const c = simCluster({ seed: 7, network: { minDelayMs: 1, maxDelayMs: 20, loss: 0 } });
  for (let i = 0; i < 5; i++) c.add();
  for (let i = 0; i < 100 && ![...c.nodes.values()].every((n) => n.swim.liveCount() === 5); i++) await c.run(200);
  assert.ok((await formRing(c, 5)) !== undefined, "the ring formed");
  const random = seededRandom(7);
  const ids = c.liveIds();
  const refused: string[] = [];
  let answered = 0;
  let running = 8;
  const client = async (n: number) => {
    for (let i = 0; i < 40; i++) {
      const node = c.nodes.get(ids[Math.floor(random.next() * ids.length)]!)!;
      const roll = random.next();
      const method = roll < 0.45 ? "PUT" : roll < 0.85 ? "GET" : "DELETE";
      const res = await node.fetch(new Request(`http://${node.id}/d/k${Math.floor(random.next() * 2)}`, { method, body: method === "PUT" ? `c${n}-${i}` : undefined }));
      if (res.status >= 500) refused.push(`${method} ${res.status} ${await res.text()}`);
      answered++;
    }
    running--;
  };
  const clients = Array.from({ length: 8 }, (_, n) => client(n));
  for (let i = 0; i < 20_000 && running > 0; i++) await c.run(5);
  await Promise.all(clients);
  assert.equal(answered, 8 * 40);
  assert.deepEqual(refused, []);
});
