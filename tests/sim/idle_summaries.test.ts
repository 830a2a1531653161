/**
 * A node keeps its anti-entropy summaries true as keys are written (lib/sync/live_tables.ts),
 * so its rounds compare them again without walking its keys (antientropy.ts,
 * `summariesStillHold`), idle or not; and that costs no repair: a replica that lost a key is
 * still found and filled by the others' rounds.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { SimCluster } from "../../lib/sim/cluster.ts";
import { summariesStillHold } from "../../lib/sync/antientropy.ts";
import { BucketDigests } from "../../lib/sync/digest.ts";
import { compareVersions } from "../../lib/store/version.ts";
import { call, formRing, seeds, simCluster, waitFor, withSeed } from "../support/sim.ts";

const KEYS = 300;
const INTERVAL_MS = 2_000;

test("kept summaries still hold on the same ring, with every change the store counted in them, and nothing to hand off", () => {
  const tables = { epoch: 4, byPeer: new Map<string, BucketDigests>(), changes: 10, unowned: 0 };
  const cases: Array<[string, Parameters<typeof summariesStillHold>, boolean]> = [
    ["unchanged", [tables, 4, 10], true],
    ["no walk yet", [undefined, 4, 10], false],
    ["a new ring", [tables, 5, 10], false],
    ["a write since", [tables, 4, 11], false],
    ["keys left to hand off", [{ ...tables, unowned: 1 }, 4, 10], false],
  ];
  for (const [name, args, holds] of cases) assert.equal(summariesStillHold(...args), holds, name);
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

/** Counts the rounds nodes finish: walks, and ones that reused summaries. Rounds are a second apart or more: look at least that often. */
function roundCounter(c: SimCluster) {
  const seen = new Map(c.liveIds().map((id) => [id, lastRound(c, id)?.startedAt]));
  const counted = { walked: 0, reused: 0 };
  const look = () => {
    for (const [id, startedAt] of seen) {
      const r = lastRound(c, id);
      if (!r || r.startedAt === startedAt) continue;
      seen.set(id, r.startedAt);
      if (r.summariesReused) counted.reused++;
      if (r.keysScanned > 0) counted.walked++;
    }
  };
  return { counted, look };
}

for (const seed of seeds(3, 71)) {
  test(`seed ${seed}: nodes taking writes or none reuse their summaries, and a replica that lost a key still gets it back`, () =>
    withSeed(seed, async () => {
      const c = await cluster(seed);
      const ids = c.liveIds();
      // Once every node has walked since the writes, none walks again, idle or written to.
      const idle = await waitFor(c, 10 * INTERVAL_MS, () => ids.every((id) => lastRound(c, id)?.summariesReused === true), 200);
      assert.ok(idle !== undefined, `every node reuses its summaries: ${JSON.stringify(ids.map((id) => lastRound(c, id)))}`);
      const busy = roundCounter(c);
      for (let i = 0; i < 40; i++) {
        const put = call(c, ids[i % 3]!, `PUT /d/key-${i * 7}`, `rewritten ${i}`);
        await c.run(250);
        busy.look();
        assert.equal((await put).status, 204);
      }
      assert.ok(busy.counted.reused >= 9, `rounds while writes came: ${JSON.stringify(busy.counted)}`);
      assert.equal(busy.counted.walked, 0, "no round walked the keys");
      for (let i = 0; i < 40; i++) {
        const copies = ids.map((id) => c.nodes.get(id)!.store.get(`key-${i * 7}`));
        assert.ok(copies.every((e) => e && new TextDecoder().decode(e.value) === `rewritten ${i}`), `key-${i * 7} on every owner`);
      }

      // One replica loses a key without a tombstone (as a bit flip or a bug would); the
      // others' rounds, on summaries that still have it, restore it.
      const [lost, ...others] = ids as [string, ...string[]];
      const store = c.nodes.get(lost)!.store;
      const version = store.get("key-8")!.version;
      assert.ok(store.dropIf("key-8", version));
      const repaired = roundCounter(c);
      const back = await waitFor(c, 10 * INTERVAL_MS, () => {
        repaired.look();
        return store.get("key-8") !== undefined;
      }, 50);
      assert.ok(back !== undefined, "the lost key came back");
      assert.equal(compareVersions(store.get("key-8")!.version, version), 0, "in the version it lost");
      // The round that pushed it reports when it ends, a moment after the key has landed.
      const pushed = await waitFor(c, INTERVAL_MS, () => {
        repaired.look();
        return others.some((id) => lastRound(c, id)!.keysPushed > 0);
      }, 50);
      assert.ok(pushed !== undefined, "pushed by another owner");
      assert.equal(repaired.counted.walked, 0, "no round walked the keys");
    }));
}
