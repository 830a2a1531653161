/**
 * A node whose store has not changed since its last pass compares the same summaries again
 * without walking its keys (lib/sync/antientropy.ts, `passStillHolds`), and that costs no
 * repair: a replica that lost a key is still found and filled by the others' rounds.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { SimCluster } from "../../lib/sim/cluster.ts";
import { passStillHolds } from "../../lib/sync/antientropy.ts";
import { BucketDigests } from "../../lib/sync/digest.ts";
import { compareVersions } from "../../lib/store/version.ts";
import { call, formRing, seeds, simCluster, waitFor, withSeed } from "../support/sim.ts";

const KEYS = 300;
const INTERVAL_MS = 2_000;

test("a pass still holds on the same ring, with nothing stored or removed since it began, and nothing to hand off", () => {
  const tables = { epoch: 4, at: 0, byPeer: new Map<string, BucketDigests>(), changes: 10, unowned: 0 };
  const cases: Array<[string, Parameters<typeof passStillHolds>, boolean]> = [
    ["unchanged", [tables, 4, 10], true],
    ["no pass yet", [undefined, 4, 10], false],
    ["a new ring", [tables, 5, 10], false],
    ["a write since", [tables, 4, 11], false],
    ["keys left to hand off", [{ ...tables, unowned: 1 }, 4, 10], false],
  ];
  for (const [name, args, holds] of cases) assert.equal(passStillHolds(...args), holds, name);
});

async function cluster(seed: number): Promise<SimCluster> {
  const c = simCluster({ seed, config: { syncIntervalMs: INTERVAL_MS } });
  for (let i = 0; i < 3; i++) c.add();
  assert.ok((await formRing(c, 3)) !== undefined, "the ring formed");
  for (let i = 0; i < KEYS; i++) {
    const put = call(c, c.liveIds()[i % 3]!, `PUT /d/key-${i}`, `value ${i}`);
    await c.run(20);
    assert.equal((await put).status, 204);
  }
  return c;
}

const lastRound = (c: SimCluster, id: string) => c.nodes.get(id)!.syncer.status().lastRound;

for (const seed of seeds(3, 71)) {
  test(`seed ${seed}: idle nodes reuse their summaries, and a replica that lost a key still gets it back`, () =>
    withSeed(seed, async () => {
      const c = await cluster(seed);
      const ids = c.liveIds();
      // A few quiet intervals: every node's last round compared without walking.
      const idle = await waitFor(c, 10 * INTERVAL_MS, () => ids.every((id) => lastRound(c, id)?.summariesReused === true), 200);
      assert.ok(idle !== undefined, `every node reuses its summaries: ${JSON.stringify(ids.map((id) => lastRound(c, id)))}`);
      for (const id of ids) assert.equal(lastRound(c, id)!.keysScanned, 0, `${id} walked no key`);

      // One replica loses a key without a tombstone (as a bit flip or a bug would): only
      // its own store changed; the others' rounds, still on their old summaries, restore it.
      const [lost, ...others] = ids as [string, ...string[]];
      const store = c.nodes.get(lost)!.store;
      const version = store.get("key-7")!.version;
      assert.ok(store.dropIf("key-7", version));
      const pushers = new Set<string>();
      const back = await waitFor(c, 10 * INTERVAL_MS, () => {
        for (const id of others) {
          const r = lastRound(c, id)!;
          if (r.keysPushed > 0 && r.summariesReused) pushers.add(id);
        }
        return store.get("key-7") !== undefined;
      }, 50);
      assert.ok(back !== undefined, "the lost key came back");
      assert.equal(compareVersions(store.get("key-7")!.version, version), 0, "in the version it lost");
      assert.ok(pushers.size > 0, "it came back from a round that reused its summaries");

      // The replica that changed walks again, then reuses once more.
      const walked = await waitFor(c, 10 * INTERVAL_MS, () => (lastRound(c, lost)?.keysScanned ?? 0) >= KEYS, 50);
      assert.ok(walked !== undefined, "the replica whose store changed walked its keys again");
      const reused = await waitFor(c, 10 * INTERVAL_MS, () => lastRound(c, lost)?.summariesReused === true, 200);
      assert.ok(reused !== undefined, "and then reuses its new summaries");
    }));
}
