/** Quorum replication among 5 simulated nodes, N = 3, W = 2, R = 2. */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { SimCluster } from "../../lib/sim/cluster.ts";
import { ringPosition } from "../../lib/ring/hash.ts";
import { call, formRing, simCluster } from "../support/sim.ts";

async function fiveNodes(seed: number, skewMs?: (i: number) => number): Promise<SimCluster> {
  const c = simCluster({ seed, skewMs });
  for (let i = 0; i < 5; i++) c.add();
  for (let i = 0; i < 100; i++) {
    await c.run(200);
    if ([...c.nodes.values()].every((n) => n.swim.liveCount() === 5)) break;
  }
  assert.ok((await formRing(c, 5)) !== undefined, "the ring formed");
  return c;
}

const path = (key: string) => `/d/${encodeURIComponent(key)}`;

async function replicasOf(c: SimCluster, key: string): Promise<string[]> {
  const someNode = [...c.nodes.values()][0]!;
  return [...someNode.ring.preferenceList(ringPosition(key), 3)];
}

test("a value written through one node reads back byte-for-byte through every node, and sits on its N replicas", async () => {
  const c = await fiveNodes(1);
  const ids = c.liveIds();
  for (let i = 0; i < 20; i++) {
    const res = await call(c, ids[i % 5]!, `PUT ${path(`key-${i}`)}`, `value ${i} ✓`);
    assert.equal(res.status, 204, `key-${i} via ${ids[i % 5]}: ${await res.text()}`);
  }
  await c.run(500); // the third replica's copy lands after W answered
  for (let i = 0; i < 20; i++) {
    for (const id of ids) {
      const res = await call(c, id, `GET ${path(`key-${i}`)}`);
      assert.equal(res.status, 200);
      assert.equal(await res.text(), `value ${i} ✓`);
    }
    const holders = ids.filter((id) => c.nodes.get(id)!.store.get(`key-${i}`) !== undefined);
    assert.deepEqual(holders.sort(), (await replicasOf(c, `key-${i}`)).sort(), "exactly the preference list holds it");
  }
});

test("with one node crashed every key stays readable and writable", async () => {
  const c = await fiveNodes(2);
  const ids = c.liveIds();
  for (let i = 0; i < 20; i++) assert.equal((await call(c, ids[0]!, `PUT ${path(`k${i}`)}`, `v${i}`)).status, 204);
  await c.run(500);
  const [gone] = await replicasOf(c, "k0");
  await c.crash(gone!);
  const alive = c.liveIds();
  for (let i = 0; i < 20; i++) {
    const res = await call(c, alive[i % alive.length]!, `GET ${path(`k${i}`)}`);
    assert.equal(res.status, 200, `k${i} through ${alive[i % alive.length]}`);
    assert.equal(await res.text(), `v${i}`);
    assert.equal((await call(c, alive[(i + 1) % alive.length]!, `PUT ${path(`k${i}`)}`, `w${i}`)).status, 204);
  }
});

test("with two of a key's three replicas down, reads and writes of it are a 503 saying who answered and who was needed", async () => {
  const c = await fiveNodes(6);
  const [r1, r2, r3] = await replicasOf(c, "fragile");
  assert.equal((await call(c, r1!, `PUT ${path("fragile")}`, "v")).status, 204);
  await c.run(100);
  // Crashed together and asked at once: membership has not noticed yet, the ring is unchanged.
  await c.crash(r2!);
  await c.crash(r3!);
  const epoch = c.nodes.get(r1!)!.topology.epoch;
  const owners = [r1, r2, r3];
  const read = await call(c, r1!, `GET ${path("fragile")}`);
  assert.equal(read.status, 503);
  assert.deepEqual(await read.json(), { error: "read: 1 of 2 required replicas answered", answered: 1, needed: 2, epoch, owners, answeredBy: [r1] });
  const write = await call(c, r1!, `PUT ${path("fragile")}`, "w");
  assert.equal(write.status, 503);
  assert.deepEqual(await write.json(), { error: "write: 1 of 2 required replicas answered", answered: 1, needed: 2, epoch, owners, answeredBy: [r1] });
  // One replica is enough when the client says so. The write stopped at its first phase
  // (learning the newest version from a read quorum), so it stored nothing anywhere.
  assert.equal(await (await call(c, r1!, `GET ${path("fragile")}?consistency=one`)).text(), "v");
  assert.equal((await call(c, r1!, `PUT ${path("fragile")}?consistency=one`, "w")).status, 204);
  assert.equal(await (await call(c, r1!, `GET ${path("fragile")}?consistency=one`)).text(), "w");
});

test("a node whose clock is an hour behind cannot reorder writes: the later write wins", async () => {
  const c = await fiveNodes(3, (i) => (i === 1 ? -3_600_000 : 0));
  const [ahead, behind] = c.liveIds();
  assert.equal((await call(c, ahead!, `PUT ${path("skewed")}`, "first, from the node that is ahead")).status, 204);
  assert.equal((await call(c, behind!, `PUT ${path("skewed")}`, "second, from the node that is behind")).status, 204);
  for (const id of c.liveIds()) {
    assert.equal(await (await call(c, id, `GET ${path("skewed")}`)).text(), "second, from the node that is behind");
  }
  assert.equal((await call(c, behind!, `DELETE ${path("skewed")}`)).status, 204);
  assert.equal((await call(c, ahead!, `GET ${path("skewed")}`)).status, 404);
});

test("a read that finds replicas disagreeing writes the newest back before answering", async () => {
  const c = await fiveNodes(4);
  const [r1, , r3] = await replicasOf(c, "repair-me");
  assert.equal((await call(c, r1!, `PUT ${path("repair-me")}`, "old")).status, 204);
  await c.run(500);
  c.network.partition([r3!]); // r3 misses the next write
  assert.equal((await call(c, r1!, `PUT ${path("repair-me")}`, "new")).status, 204);
  c.network.heal();
  assert.equal(new TextDecoder().decode(c.nodes.get(r3!)!.store.get("repair-me")!.value), "old");
  // Read through the stale replica itself, asking all three.
  const res = await call(c, r3!, `GET ${path("repair-me")}?consistency=all`);
  assert.equal(await res.text(), "new");
  assert.equal(new TextDecoder().decode(c.nodes.get(r3!)!.store.get("repair-me")!.value), "new");
});

test("a quorum read through a stale replica answers the newest value and repairs that replica", async () => {
  const c = await fiveNodes(8);
  const [r1, r2, r3] = await replicasOf(c, "behind");
  assert.equal((await call(c, r1!, `PUT ${path("behind")}`, "old")).status, 204);
  await c.run(500);
  c.network.partition([r3!]);
  assert.equal((await call(c, r1!, `PUT ${path("behind")}`, "new")).status, 204);
  c.network.heal();
  await c.run(100);
  // r3 reads its own (old) entry and one partner's (new): they disagree, so the read
  // settles by the general path, which writes the newest back before answering.
  const res = await call(c, r3!, `GET ${path("behind")}`);
  assert.equal(await res.text(), "new");
  assert.equal(new TextDecoder().decode(c.nodes.get(r3!)!.store.get("behind")!.value), "new");
  assert.equal(new TextDecoder().decode(c.nodes.get(r2!)!.store.get("behind")!.value), "new");
});

test("a quorum read whose first partner does not answer asks the third replica, and waits out one timeout, not two", async () => {
  const c = await fiveNodes(9);
  const [r1, r2] = await replicasOf(c, "partner-down");
  assert.equal((await call(c, r1!, `PUT ${path("partner-down")}`, "v")).status, 204);
  await c.run(500);
  await c.crash(r2!); // r1's partner for a quorum read; membership has not noticed yet
  const started = c.clock.monotonicMs();
  const res = await call(c, r1!, `GET ${path("partner-down")}`);
  const tookMs = c.clock.monotonicMs() - started;
  assert.equal(res.status, 200);
  assert.equal(await res.text(), "v");
  const timeoutMs = 300; // --replica-timeout-ms's default
  assert.ok(tookMs >= timeoutMs && tookMs < 2 * timeoutMs, `answered after ${tookMs} ms`);
});

test("consistency=one|quorum|all is accepted, and anything else is a 400", async () => {
  const c = await fiveNodes(5);
  const id = c.liveIds()[0]!;
  for (const level of ["one", "quorum", "all"]) {
    assert.equal((await call(c, id, `PUT ${path(level)}?consistency=${level}`, level)).status, 204);
    assert.equal(await (await call(c, id, `GET ${path(level)}?consistency=${level}`)).text(), level);
  }
  const bad = await call(c, id, `GET ${path("one")}?consistency=most`);
  assert.equal(bad.status, 400);
});

test("hinted handoff: a replica cut off during writes receives them when it is back, without any read", async () => {
  const c = await fiveNodes(7);
  const keys = Array.from({ length: 30 }, (_, i) => `hinted-${i}`);
  // The keys that `cut` is a replica of, written through another of their replicas.
  const cut = c.liveIds()[2]!;
  const mine: Array<[string, string]> = [];
  for (const key of keys) {
    const replicas = await replicasOf(c, key);
    if (replicas.includes(cut)) mine.push([key, replicas.find((r) => r !== cut)!]);
  }
  assert.ok(mine.length >= 5, `only ${mine.length} keys on ${cut}`);
  c.network.partition([cut]);
  for (const [key, via] of mine) {
    const res = await call(c, via, `PUT ${path(key)}`, `v-${key}`);
    assert.equal(res.status, 204, "W = 2 of the other two replicas: hints do not count, nor are they needed");
  }
  await c.run(500);
  for (const [key] of mine) assert.equal(c.nodes.get(cut)!.store.get(key), undefined, "the cut replica missed it");
  c.network.heal();
  await c.run(15_000); // membership sees it again, or the 5 s sweep finds it reachable
  for (const [key] of mine) {
    const held = c.nodes.get(cut)!.store.get(key);
    assert.ok(held, `${key} was handed off`);
    assert.equal(new TextDecoder().decode(held.value), `v-${key}`);
  }
  const replayed = [...c.nodes.values()].reduce((n, node) => n + Number(node.metrics.render().match(/dht_hints_replayed_total (\d+)/)?.[1] ?? 0), 0);
  assert.ok(replayed >= mine.length, `replayed ${replayed}`);
});

test("a node's metrics count the replica messages it batched and each batch's round trip", async () => {
  const c = await fiveNodes(12);
  const key = "observed";
  const replicas = await replicasOf(c, key);
  const coordinator = c.nodes.get(replicas[0]!)!;
  const figure = (name: string) => Number(coordinator.metrics.render().match(new RegExp(`^${name} (\\S+)$`, "m"))?.[1] ?? NaN);
  const before = { messages: figure("dht_replica_batch_messages_sum"), batches: figure("dht_replica_batch_messages_count"), answered: figure("dht_replica_batch_seconds_count") };
  assert.equal((await call(c, coordinator.id, `PUT ${path(key)}`, "v")).status, 204);
  await c.run(500);
  assert.equal((await call(c, coordinator.id, `GET ${path(key)}`)).status, 200);
  // A write through an owner: a put above what they hold to each of the other two (one round
  // trip); a settled read: one message to one partner. Each alone in its batch.
  assert.equal(figure("dht_replica_batch_messages_sum") - before.messages, 3);
  assert.equal(figure("dht_replica_batch_messages_count") - before.batches, 3);
  assert.equal(figure("dht_replica_batch_seconds_count") - before.answered, 3);
  assert.ok(figure("dht_replica_batch_seconds_sum") > 0, "the simulated network takes time");

  // Five clients read it at once: the first read's get waits for the end of the turn before
  // it leaves (batcher.ts), and the other four share it.
  const shared = figure("dht_replica_reads_shared_total");
  const sent = figure("dht_replica_batch_messages_sum");
  const reads = await Promise.all(Array.from({ length: 5 }, () => call(c, coordinator.id, `GET ${path(key)}`)));
  assert.deepEqual(reads.map((r) => r.status), [200, 200, 200, 200, 200]);
  assert.equal(figure("dht_replica_reads_shared_total") - shared, 4);
  assert.equal(figure("dht_replica_batch_messages_sum") - sent, 1);
});
