/**
 * Stabilisation among simulated nodes (N = 3, W = 2, R = 2): data follows the ring through
 * crashes, graceful leaves, joins and a partition, and no acknowledged write is lost.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Config } from "../../lib/config.ts";
import { overFrames, type SimCluster } from "../../lib/sim/cluster.ts";
import { readLabel } from "../../lib/wire/label.ts";
import { decodeOfferRequest } from "../../lib/wire/sync.ts";
import { ringPosition } from "../../lib/ring/hash.ts";
import { vnodePositions } from "../../lib/ring/hash.ts";
import { Ring } from "../../lib/ring/ring.ts";
import { compareVersions } from "../../lib/store/version.ts";
import { call, formRing, ringFormed, simCluster, seeds, withSeed } from "../support/sim.ts";

const KEYS = 2_000;
const key = (i: number) => `key-${i}`;
const value = (i: number) => `value ${i} ✓`;
const config = { syncIntervalMs: 2_000 };

async function cluster(seed: number, size: number, own: Partial<Config> = config): Promise<SimCluster> {
  const c = simCluster({ seed, config: own });
  for (let i = 0; i < size; i++) c.add();
  for (let i = 0; i < 100 && !everyoneSees(c, size); i++) await c.run(200);
  assert.ok(everyoneSees(c, size), "the cluster formed");
  assert.ok((await formRing(c, size)) !== undefined, "the ring formed");
  return c;
}

const everyoneSees = (c: SimCluster, n: number) => [...c.nodes.values()].every((node) => node.swim.liveCount() === n);

/** Sends every request at once and runs virtual time until all are answered. */
/**
 * The requests, in waves of 500 at a time: together they stay under a node's
 * --max-client-requests (1,024), past which it sheds with a 503 as clients are told.
 */
async function callAll(c: SimCluster, requests: Array<{ via: string; method: string; path: string; body?: string }>): Promise<Response[]> {
  const answers: Response[] = [];
  for (let from = 0; from < requests.length; from += 500) {
    let pending = Math.min(500, requests.length - from);
    const wave = requests.slice(from, from + 500).map((r) =>
      Promise.resolve(c.nodes.get(r.via)!.fetch(new Request(`http://${r.via}${r.path}`, { method: r.method, body: r.body }))).finally(() => pending--));
    for (let i = 0; i < 4_000 && pending > 0; i++) await c.run(5);
    answers.push(...await Promise.all(wave));
  }
  return answers;
}

async function writeKeys(c: SimCluster): Promise<void> {
  const ids = c.liveIds();
  const answers = await callAll(c, Array.from({ length: KEYS }, (_, i) => ({ via: ids[i % ids.length]!, method: "PUT", path: `/d/${key(i)}`, body: value(i) })));
  for (const [i, res] of answers.entries()) assert.equal(res.status, 204, `PUT ${key(i)}: ${res.status}`);
}

/** Every key read through live nodes in turn: returns the keys that did not come back intact. */
async function unreadable(c: SimCluster, ids = c.liveIds()): Promise<string[]> {
  const answers = await callAll(c, Array.from({ length: KEYS }, (_, i) => ({ via: ids[i % ids.length]!, method: "GET", path: `/d/${key(i)}` })));
  const bad: string[] = [];
  for (const [i, res] of answers.entries()) {
    const text = await res.text();
    if (res.status !== 200 || text !== value(i)) bad.push(`${key(i)} (${res.status})`);
  }
  return bad;
}

/** The ring the live nodes should converge on. */
function liveRing(c: SimCluster): Ring {
  const ring = new Ring();
  for (const id of c.liveIds()) ring.add(id, vnodePositions(id, c.nodes.get(id)!.ring.vnodes().length / c.nodes.get(id)!.ring.size));
  return ring;
}

/** Keys not held, in their newest version, by every one of their N owners among live nodes. */
function underReplicated(c: SimCluster, keys = Array.from({ length: KEYS }, (_, i) => key(i))): string[] {
  const ring = liveRing(c);
  const bad: string[] = [];
  for (const k of keys) {
    const owners = ring.preferenceList(ringPosition(k), 3);
    const versions = owners.map((id) => c.nodes.get(id)!.store.get(k)?.version);
    const newest = c.liveIds().map((id) => c.nodes.get(id)!.store.get(k)?.version).reduce((a, b) => (!b || (a && compareVersions(a, b) >= 0) ? a : b), undefined);
    if (!newest || versions.some((v) => !v || compareVersions(v, newest) !== 0)) bad.push(k);
  }
  return bad;
}

/**
 * Runs virtual time until every live node holds one stable epoch whose ring is the live
 * nodes, and has a quiet round behind it.
 */
async function stabilise(c: SimCluster, limitMs = 120_000): Promise<void> {
  for (let t = 0; t < limitMs; t += 500) {
    const live = c.liveIds().map((id) => c.nodes.get(id)!);
    const rings = new Set(live.map((n) => n.ring.checksum()));
    if (rings.size === 1 && ringFormed(c, live.length) && live.every((n) => n.syncer.status().settled) && underReplicated(c).length === 0) return;
    await c.run(500);
  }
  assert.fail(`not stable after ${limitMs} ms: ${underReplicated(c).length} keys under-replicated`);
}

for (const seed of seeds(3, 11)) {
  test(`seed ${seed}: 2,000 keys on 6 nodes survive a crash, a second crash and a graceful leave`, () =>
    withSeed(seed, async () => {
      const c = await cluster(seed, 6);
      await writeKeys(c);
      await stabilise(c);
      // One request shows the whole cluster: every node settled, N copies of every key.
      const all = await (await call(c, c.liveIds()[0]!, "GET /cluster/sync?all")).json();
      assert.equal(all.nodes.length, 6);
      assert.equal(all.liveKeys, 3 * KEYS);
      assert.equal(all.settled, true);
      // Each node's own last round: one that walked its keys, or compared the summaries of
      // such a walk again, nothing having changed since (an empty report does neither).
      type Last = { lastRound: { keysScanned: number; summariesReused: boolean } };
      assert.ok(all.nodes.every((n: Last) => n.lastRound.keysScanned > 0 || n.lastRound.summariesReused));

      const [first, second, third] = c.liveIds().slice(1, 4);
      await c.crash(first!);
      assert.deepEqual(await unreadable(c), [], "readable at once after one crash");
      await stabilise(c);

      await c.crash(second!);
      assert.deepEqual(await unreadable(c), [], "readable after a second crash");
      await stabilise(c);

      const leaver = c.nodes.get(third!)!;
      const held = leaver.store.size;
      let during: string[] = [];
      let heldDuring = 0;
      await c.leave(third!, async () => {
        // Reads and writes through the others while the leaver hands off.
        const others = c.liveIds([third!]);
        const writes = await callAll(c, others.map((via, i) => ({ via, method: "PUT", path: `/d/during-${i}`, body: "x" })));
        for (const res of writes) assert.equal(res.status, 204);
        heldDuring = leaver.store.size;
        during = await unreadable(c, others);
      });
      assert.deepEqual(during, [], "readable through the others during the leave");
      assert.ok(heldDuring > 0, "the writes ran while the leaver still held its data");
      assert.ok(held > 0);
      assert.equal(leaver.store.size, 0, "a leaver drops what its new owners confirmed: everything");
      assert.equal(c.nodes.get(third!), undefined);
      assert.deepEqual(underReplicated(c), [], "the leaver handed everything to the new owners before it went");
      assert.deepEqual(await unreadable(c), [], "readable after a graceful leave");
      await stabilise(c);
      assert.deepEqual(underReplicated(c), []);
    }));
}

test("joining 2 members to 4 moves about their share of the data; then the old members can crash one by one", () =>
  withSeed(21, async () => {
    const c = await cluster(21, 4);
    await writeKeys(c);
    await stabilise(c);
    const old = c.liveIds();
    const newcomers = [c.add(old), c.add(old)].map((n) => n.id);
    for (let i = 0; i < 100 && !everyoneSees(c, 6); i++) await c.run(200);
    await stabilise(c);

    // Each of 6 members owns about N/6 of the keys; the old members dropped what they handed over.
    for (const id of newcomers) {
      const held = c.nodes.get(id)!.store.size;
      assert.ok(held > 0.7 * (3 * KEYS) / 6 && held < 1.3 * (3 * KEYS) / 6, `${id} holds ${held}`);
    }
    const copies = [...c.nodes.values()].reduce((sum, n) => sum + n.store.size, 0);
    assert.equal(copies, 3 * KEYS, "no copies beyond N are left behind");
    const answers = await callAll(c, Array.from({ length: KEYS }, (_, i) => ({ via: newcomers[i % 2]!, method: "GET", path: `/d/${key(i)}` })));
    for (const [i, res] of answers.entries()) assert.equal(await res.text(), value(i));

    for (const id of old) {
      await c.crash(id);
      assert.deepEqual(await unreadable(c), [], `readable after ${id} crashed`);
      await stabilise(c);
    }
  }));

test("messages lost while a range streams to a new owner do not cost that healthy member its place on the ring", () =>
  withSeed(22, async () => {
    // Anti-entropy's own interval (10 s): an old owner's next round would come too late.
    const c = await cluster(22, 4, {});
    await writeKeys(c);
    await stabilise(c);
    const joiner = c.add(c.liveIds());
    // The first two offers from each old owner to the joiner are lost (never answered).
    const lost = new Map<string, number>();
    const carrier = overFrames(joiner);
    c.network.attach(joiner.id, (path, body) => {
      if (path !== "/_kv/offer") return carrier(path, body);
      const from = decodeOfferRequest(readLabel(body).body).from;
      if ((lost.get(from) ?? 0) >= 2) return carrier(path, body);
      lost.set(from, (lost.get(from) ?? 0) + 1);
      return new Promise(() => {});
    });
    await stabilise(c);
    assert.ok(lost.size >= 2, `offers lost from ${lost.size} old owners: the test would prove nothing`);
    const removed = c.nodes.get(c.liveIds()[0]!)!.topology.state.removed.filter((k) => k.startsWith(joiner.id));
    assert.deepEqual(removed, [], "the joiner was dropped from the ring for an old owner's lost message");
    assert.deepEqual(await unreadable(c), []);
  }));

test("anti-entropy alone brings a replica level: lost writes come back, and a missed delete does not resurrect", () =>
  withSeed(31, async () => {
    const c = await cluster(31, 5);
    await writeKeys(c);
    await stabilise(c);
    const victim = c.nodes.get(c.liveIds()[2]!)!;
    const victimKeys = Array.from({ length: KEYS }, (_, i) => key(i)).filter((k) => victim.store.get(k));
    // Deleted everywhere, but the victim never heard: it still holds the live value.
    const deleted = victimKeys.slice(0, 50);
    const ids = c.liveIds();
    const before = new Map(deleted.map((k) => [k, victim.store.get(k)!]));
    for (const res of await callAll(c, deleted.map((k, i) => ({ via: ids[i % ids.length]!, method: "DELETE", path: `/d/${k}` })))) assert.equal(res.status, 204);
    for (const k of deleted) {
      victim.store.dropIf(k, victim.store.get(k)!.version);
      victim.store.apply(k, before.get(k)!);
    }
    // And it lost 200 more writes outright.
    const lost = victimKeys.slice(50, 250);
    for (const k of lost) victim.store.dropIf(k, victim.store.get(k)!.version);

    await c.run(2 * config.syncIntervalMs + 1_000);
    for (const k of lost) assert.ok(victim.store.get(k)?.value, `${k} restored`);
    for (const k of deleted) assert.equal(victim.store.get(k)?.tombstone, true, `${k}'s delete reached the victim`);
    assert.deepEqual(underReplicated(c, [...lost, ...deleted]), []);
    const answers = await callAll(c, deleted.map((k) => ({ via: victim.id, method: "GET", path: `/d/${k}` })));
    for (const res of answers) assert.equal(res.status, 404);
  }));

test("a partition that isolates one member heals, and the member is brought level", () =>
  withSeed(41, async () => {
    const c = await cluster(41, 5);
    await writeKeys(c);
    await stabilise(c);
    const isolated = c.liveIds()[1]!;
    const majority = c.liveIds([isolated]);
    c.network.partition([isolated]);
    // Long enough for the majority to declare it dead and re-replicate without it.
    await c.run(30_000);
    const answers = await callAll(c, Array.from({ length: KEYS }, (_, i) => ({ via: majority[i % majority.length]!, method: "PUT", path: `/d/${key(i)}`, body: `${value(i)} v2` })));
    for (const res of answers) assert.equal(res.status, 204);
    c.network.heal();
    for (let i = 0; i < 200 && !everyoneSees(c, 5); i++) await c.run(200);
    assert.ok(everyoneSees(c, 5), "the cluster merged");
    await stabilise(c);
    const reads = await callAll(c, Array.from({ length: KEYS }, (_, i) => ({ via: isolated, method: "GET", path: `/d/${key(i)}` })));
    for (const [i, res] of reads.entries()) assert.equal(await res.text(), `${value(i)} v2`);
  }));

test("members leaving together hand their data to the ones that stay, and do not wait on each other", () =>
  withSeed(51, async () => {
    const c = await cluster(51, 5);
    await writeKeys(c);
    await stabilise(c);
    const [a, b] = c.liveIds().slice(0, 2);
    const nodes = [a!, b!].map((id) => c.nodes.get(id)!);
    const started = c.clock.monotonicMs();
    let done = 0;
    const leaving = nodes.map((n) => n.leave().finally(() => done++));
    while (done < 2) await c.run(50);
    await Promise.all(leaving);
    for (const id of [a!, b!]) {
      c.network.down(id);
      c.nodes.delete(id);
    }
    assert.ok(c.clock.monotonicMs() - started < 10_000, `both left within 10 s, not at the leave timeout (${c.clock.monotonicMs() - started} ms)`);
    for (const n of nodes) assert.equal(n.store.size, 0, `${n.id} handed everything over`);
    assert.deepEqual(underReplicated(c), [], "the three that stay hold every key");
    assert.deepEqual(await unreadable(c), []);
  }));

test("a whole cluster shutting down at once does not wait out the leave timeout", () =>
  withSeed(61, async () => {
    const c = await cluster(61, 3);
    await writeKeys(c);
    await stabilise(c);
    const nodes = [...c.nodes.values()];
    const started = c.clock.monotonicMs();
    let done = 0;
    const leaving = nodes.map((n) => n.leave().finally(() => done++));
    while (done < nodes.length && c.clock.monotonicMs() - started < 60_000) await c.run(50);
    await Promise.all(leaving);
    assert.ok(c.clock.monotonicMs() - started < 10_000, `all left within 10 s (${c.clock.monotonicMs() - started} ms)`);
  }));
