/**
 * Listings across a simulated cluster: every key acknowledged before a listing began is
 * listed once, and no key deleted before it, through every node, with a member crashed
 * and while a new member joins (a ring transition moves ranges under the pages). With two
 * of a range's owners down the listing cannot vouch for that range and answers 503.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { SimCluster } from "../../lib/sim/cluster.ts";
import { call, formRing, seeds, simCluster, waitFor, withSeed } from "../support/sim.ts";

async function listAll(c: SimCluster, via: string, prefix: string, limit: number): Promise<{ keys: string[]; status: number }> {
  const keys: string[] = [];
  let after: string | null = null;
  for (let pages = 0; pages < 1_000; pages++) {
    const res = await call(c, via, `GET /d?prefix=${encodeURIComponent(prefix)}&limit=${limit}${after ? `&after=${encodeURIComponent(after)}` : ""}`);
    if (res.status !== 200) return { keys, status: res.status };
    const page = await res.json();
    keys.push(...page.keys);
    after = page.next;
    if (!after) break;
  }
  return { keys, status: 200 };
}

for (const seed of seeds(2, 601)) {
  test(`seed ${seed}: every acknowledged key once and no deleted one, through every node, with a crash and during a join`, () =>
    withSeed(seed, async () => {
      const c = simCluster({ seed, network: { minDelayMs: 1, maxDelayMs: 10, loss: 0 } });
      for (let i = 0; i < 5; i++) c.add();
      assert.ok((await formRing(c, 5)) !== undefined, "the ring formed");
      const ids = c.liveIds();
      const expected = new Set<string>();
      for (let i = 0; i < 300; i++) {
        const key = `item/${String(i).padStart(3, "0")}`;
        if ((await call(c, ids[i % 5]!, `PUT /d/${encodeURIComponent(key)}`, `v${i}`)).status === 204) expected.add(key);
      }
      await call(c, ids[0]!, "PUT /d/elsewhere", "x");
      for (let i = 0; i < 300; i += 7) {
        const key = `item/${String(i).padStart(3, "0")}`;
        if ((await call(c, ids[1]!, `DELETE /d/${encodeURIComponent(key)}`)).status === 204) expected.delete(key);
      }
      const want = [...expected].sort();
      for (const id of ids) assert.deepEqual((await listAll(c, id, "item/", 37)).keys, want, `through ${id}`);

      await c.crash(ids[4]!);
      assert.deepEqual((await listAll(c, ids[0]!, "item/", 50)).keys, want, "with a member crashed");

      // A join: pages are read while ranges move to the new member.
      c.add([ids[0]!]);
      const moving = () => c.liveIds().some((id) => c.nodes.get(id)!.topology.state.phase !== "stable");
      assert.ok((await waitFor(c, 30_000, moving, 20)) !== undefined, "the ring began to move");
      const during = await listAll(c, ids[1]!, "item/", 20);
      assert.equal(during.status, 200);
      assert.deepEqual(during.keys, want, "during the join");
      assert.ok((await formRing(c, 5, 60_000)) !== undefined, "the join completed");
      assert.deepEqual((await listAll(c, c.liveIds().at(-1)!, "item/", 100)).keys, want, "through the new member");
    }));
}

test("with two members down at once, the ranges they shared cannot be read: 503, as a read of them would be", async () => {
  const c = simCluster({ seed: 7, network: { minDelayMs: 1, maxDelayMs: 10, loss: 0 } });
  for (let i = 0; i < 5; i++) c.add();
  assert.ok((await formRing(c, 5)) !== undefined);
  const ids = c.liveIds();
  await call(c, ids[0]!, "PUT /d/k", "v");
  c.network.down(ids[3]!);
  c.network.down(ids[4]!);
  const res = await call(c, ids[0]!, "GET /d");
  assert.equal(res.status, 503);
  assert.equal((await res.json()).error.startsWith("list:"), true);
});
