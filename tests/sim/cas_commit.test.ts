/**
 * A conditional write is answered once a quorum accepted it (two round trips); its commit
 * follows. Here no proposer ever commits (as if each died right after its answer), so
 * every acknowledged conditional write lives only as accepted proposals on its owners:
 * reads, plain writes and ring transitions must still find it. Controls: reads that ignore
 * accepted proposals serve stale values; a transition that moves keys without settling
 * them loses acknowledged writes.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { checkHistory, type Operation } from "../../lib/check/linearizability.ts";
import type { CasFaults } from "../../lib/replication/coordinator.ts";
import { conditionalWrite, readKey, runClients, type Scenario } from "../support/cas.ts";
import { call, formRing, seeds, simCluster, withSeed } from "../support/sim.ts";
import { ringPosition } from "../../lib/ring/hash.ts";

const scenarios: Scenario[] = [
  { name: "loss and clock skew", nodes: 5, keys: ["x", "y"], plain: 0.2, deletes: 0.1, fault: (c) => void (c.network.options.loss = 0.03) },
  { name: "plain writes racing on one key", nodes: 5, keys: ["x"], plain: 0.4, deletes: 0.1 },
  { name: "a crash", nodes: 5, keys: ["x", "y"], plain: 0.2, deletes: 0.1, fault: (c, ids, t) => void (t >= 2_000 && !c.network.isDown(ids[1]!) && c.crash(ids[1]!)) },
  { name: "a join", nodes: 4, keys: ["x", "y"], plain: 0.2, deletes: 0.1, fault: (c, _ids, t) => void (t >= 1_000 && c.liveIds().length === 4 && c.add()) },
];

const neverCommit: CasFaults = { noCommit: true };

for (const scenario of scenarios) {
  for (const seed of seeds(2, 501)) {
    test(`seed ${seed}: conditional writes never committed by their proposers, under ${scenario.name}: linearizable`, () =>
      withSeed(seed, async () => {
        const { history, statuses } = await runClients(seed, scenario, { casFaults: neverCommit }, 6, 6_000);
        assert.ok((statuses.get(204) ?? 0) > 0, `some conditional writes won: ${JSON.stringify([...statuses])}`);
        const result = checkHistory(history);
        assert.ok(result.ok, `not linearizable on key ${result.key}: ${JSON.stringify(history.filter((op) => op.key === result.key))}`);
      }));
  }
}

/**
 * Conditional writes through one node, each followed 5 ms later by a read of its key
 * through another: with no commit ever sent, only the owners' accepted proposals say what
 * was chosen. Resolves to the history (writes and reads) for the checker.
 */
async function writeThenRead(seed: number, faults: CasFaults): Promise<Operation[]> {
  const c = simCluster({ seed, network: { minDelayMs: 1, maxDelayMs: 5, loss: 0 }, node: { casFaults: faults } });
  for (let i = 0; i < 5; i++) c.add();
  assert.ok((await formRing(c, 5)) !== undefined, "the ring formed");
  const ids = c.liveIds();
  const history: Operation[] = [];
  for (let i = 0; i < 12; i++) {
    const key = `k${i % 3}`;
    const read = await c.runUntil(readKey(c, c.nodes.get(ids[i % 5]!)!, key, history), `GET ${key}`);
    assert.notEqual(read, undefined, `GET ${key} answered`);
    await c.runUntil(conditionalWrite(c, c.nodes.get(ids[(i + 1) % 5]!)!, key, read!, `${i}`, history), `CAS ${key}`);
    await c.run(5);
    await c.runUntil(readKey(c, c.nodes.get(ids[(i + 2) % 5]!)!, key, history), `GET ${key} again`);
  }
  return history;
}

for (const seed of seeds(2, 601)) {
  test(`seed ${seed}: a read right after a conditional write that was never committed finds it`, () =>
    withSeed(seed, async () => {
      const history = await writeThenRead(seed, neverCommit);
      assert.equal(history.filter((op) => op.kind === "cas" && op.won).length, 12, "every conditional write won");
      assert.ok(checkHistory(history).ok, JSON.stringify(history));
    }));

  test(`control, seed ${seed}: reads that ignore accepted proposals miss conditional writes already answered`, () =>
    withSeed(seed, async () => {
      const history = await writeThenRead(seed, { ...neverCommit, readsIgnorePending: true });
      assert.equal(checkHistory(history).ok, false);
    }));
}

/** Keys created by `If-None-Match: *` on three nodes, never committed: the keys that won. */
async function createUncommitted(seed: number, faults: CasFaults) {
  const c = simCluster({ seed, network: { minDelayMs: 1, maxDelayMs: 5, loss: 0 }, node: { casFaults: faults } });
  for (let i = 0; i < 3; i++) c.add();
  assert.ok((await formRing(c, 3)) !== undefined, "the ring formed");
  const ids = c.liveIds();
  const created: string[] = [];
  for (let i = 0; i < 60; i++) {
    const request = new Request(`http://${ids[i % 3]}/d/c${i}`, { method: "PUT", headers: { "if-none-match": "*" }, body: `v${i}` });
    const res = await c.runUntil(c.nodes.get(ids[i % 3]!)!.fetch(request), `create c${i}`);
    await res.body?.cancel();
    if (res.status === 204) created.push(`c${i}`);
  }
  assert.ok(created.length >= 50, `most conditional creates won: ${created.length}`);
  return { c, ids, created };
}

/**
 * Then two nodes join: some ranges move two of their three owners, the two that may be all
 * that accepted a key's write. Resolves to the keys whose acknowledged value a read no
 * longer finds.
 */
async function createThenJoin(seed: number, faults: CasFaults): Promise<string[]> {
  const { c, created } = await createUncommitted(seed, faults);
  c.add();
  c.add();
  assert.ok((await formRing(c, 5)) !== undefined, "the two joined");
  const lost: string[] = [];
  const all = c.liveIds();
  for (const [i, key] of created.entries()) {
    const res = await call(c, all[i % all.length]!, `GET /d/${key}`);
    if (res.status !== 200 || (await res.text()) !== `v${key.slice(1)}`) lost.push(key);
  }
  return lost;
}

/** Then a listing: the keys it shows. */
async function createThenList(seed: number, faults: CasFaults): Promise<{ listed: string[]; created: string[] }> {
  const { c, ids, created } = await createUncommitted(seed, faults);
  const res = await call(c, ids[1]!, "GET /d?prefix=c&limit=1000");
  assert.equal(res.status, 200);
  return { listed: (await res.json()).keys, created: created.sort() };
}

for (const seed of seeds(2, 701)) {
  test(`seed ${seed}: a ring transition settles conditional writes accepted but never committed before their keys move`, () =>
    withSeed(seed, async () => {
      assert.deepEqual(await createThenJoin(seed, neverCommit), []);
    }));

  test(`control, seed ${seed}: a transition that moves keys without settling accepted proposals loses acknowledged writes`, () =>
    withSeed(seed, async () => {
      const lost = await createThenJoin(seed, { ...neverCommit, streamIgnoresPending: true });
      assert.ok(lost.length > 0, "some acknowledged conditional write was lost");
    }));
}

test("a listing shows keys created by conditional writes never committed", async () => {
  const { listed, created } = await createThenList(801, neverCommit);
  assert.deepEqual(listed, created);
});

test("control: a listing that ignores accepted proposals misses acknowledged keys", async () => {
  const { listed, created } = await createThenList(801, { ...neverCommit, readsIgnorePending: true });
  assert.ok(listed.length < created.length, `listed ${listed.length} of ${created.length}`);
});

test("uncontended, a conditional write takes two round trips, as a plain write does through a node that is not an owner (one through an owner)", async () => {
  const delay = 10; // every message takes exactly this long, so time counts round trips
  const c = simCluster({ seed: 5, network: { minDelayMs: delay, maxDelayMs: delay, loss: 0 } });
  for (let i = 0; i < 5; i++) c.add();
  assert.ok((await formRing(c, 5)) !== undefined, "the ring formed");
  const ids = c.liveIds();
  const through = { owner: 0, other: 0 };
  for (const [i, id] of ids.entries()) {
    let t = c.clock.now();
    const put = await call(c, id, `PUT /d/k${i}`, "a");
    const putMs = c.clock.now() - t;
    t = c.clock.now();
    const request = new Request(`http://${id}/d/k${i}`, { method: "PUT", headers: { "if-match": `"${put.headers.get("x-dht-version")}"` }, body: "b" });
    const cas = await c.runUntil(c.nodes.get(id)!.fetch(request), "CAS");
    const casMs = c.clock.now() - t;
    assert.equal(cas.status, 204);
    assert.equal(casMs, 2 * 2 * delay, `through ${id}: the conditional write took ${casMs} ms`);
    const owner = c.nodes.get(id)!.ring.preferenceList(ringPosition(`k${i}`), 3).includes(id);
    assert.equal(putMs, (owner ? 1 : 2) * 2 * delay, `through ${id} (${owner ? "an owner" : "not an owner"}): the plain PUT took ${putMs} ms`);
    through[owner ? "owner" : "other"]++;
    const read = await call(c, ids[(i + 1) % ids.length]!, `GET /d/k${i}`);
    assert.equal(await read.text(), "b");
  }
  assert.ok(through.owner > 0 && through.other > 0, `both kinds of coordinator were tried: ${JSON.stringify(through)}`);
});
