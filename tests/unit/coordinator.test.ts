/** The coordinator against stub replicas: what counts as a replica's acknowledgement. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { seededRandom, type Transport } from "../../lib/env.ts";
import { CasAcceptor } from "../../lib/cas/acceptor.ts";
import { quorumCoordinator } from "../../lib/replication/coordinator.ts";
import { HintStore } from "../../lib/replication/hints.ts";
import { decodeBatch, decodeBatchReplies, decodeKvRequest, encodeBatchReplies, encodeGetReply, encodePutReply, type PutReply } from "../../lib/wire/replica.ts";
import { localReplica } from "../../lib/replication/replica.ts";
import { Layout } from "../../lib/topology/placement.ts";
import { ringHalves } from "../../lib/ring/hash.ts";
import { StaleEpochError } from "../../lib/topology/topology.ts";
import type { Entry } from "../../lib/store/store.ts";
import { Store } from "../../lib/store/store.ts";
import { compareVersions, Hlc, successor, type Version } from "../../lib/store/version.ts";
import { replicaMessages } from "../../lib/replication/replica_messages.ts";
import { testEnv } from "../support/env.ts";
import { VirtualClock } from "../../lib/sim/clock.ts";

const SELF = "127.0.0.1:8000";
const PEERS = ["127.0.0.1:8001", "127.0.0.1:8002"];

/** A coordinator among three replicas (N = 3, W = 2, R = 2 unless given) whose two peers answer puts with `answerPut`, or not at all while `answering()` is false. */
function coordinatorWithPeers(answerPut: (entry: Entry) => PutReply, quorum = { writeQuorum: 2, readQuorum: 2 }, answering = () => true) {
  const env = testEnv();
  const transport: Transport = {
    async send(_peer, _path, body) {
      if (!answering()) throw new Error("unreachable");
      const replies = decodeBatch(body, 128).map((bytes) => {
        const message = decodeKvRequest(bytes);
        const reply = message.type === "put" ? encodePutReply(answerPut(message.entry)) : encodeGetReply({});
        return { status: 200, body: reply };
      });
      return { status: 200, body: encodeBatchReplies(replies) };
    },
    close: async () => {},
  };
  const members = [SELF, ...PEERS].map((id) => ({ id, nonce: "n" }));
  const layout = new Layout({ cluster: "test", epoch: 1, phase: "stable", members, next: [], removed: [], pins: [], recoveries: [] }, 16, 3);
  const store = new Store(() => env.clock.now());
  const hlc = new Hlc(SELF, () => env.clock.now());
  const coordinator = quorumCoordinator({
    self: SELF,
    placer: { place: (position) => layout.placement(position), placeKey: (key) => layout.placementOfHalves(ringHalves(key)), catchUp: async () => {} },
    replica: localReplica(store, hlc),
    acceptor: new CasAcceptor(store, () => env.clock.now()),
    hlc,
    hints: new HintStore(),
    env: { clock: env.clock, transport, random: seededRandom(1) },
    config: { replicas: 3, ...quorum, replicaTimeoutMs: 300 },
  });
  return { coordinator, store, hlc };
}

const bytes = (s: string) => new TextEncoder().encode(s);
const later = (v: Version): Version => ({ ...v, wall: v.wall + 1000 });

test("a replica that already holds the very version being written counts as having stored it", async () => {
  // As when a concurrent read found the write on this node and repaired it onto the peers
  // before the write's own messages reached them.
  const { coordinator, store } = coordinatorWithPeers((entry) => ({ applied: false, current: entry.version }));
  const { version } = await coordinator.put("k", { value: bytes("v"), contentType: "text/plain" });
  assert.deepEqual(store.get("k")?.version, version);
  await coordinator.delete("k");
  assert.equal(store.get("k")?.tombstone, true);
});

test("a refusal citing a newer version acknowledges; one citing an older version (no honest replica sends it) does not", async () => {
  const newer = coordinatorWithPeers((entry) => ({ applied: false, current: later(entry.version) }));
  await newer.coordinator.put("k", { value: bytes("v"), contentType: "text/plain" });
  const older = coordinatorWithPeers((entry) => ({ applied: false, current: { ...entry.version, wall: entry.version.wall - 1 } }));
  await assert.rejects(older.coordinator.put("k", { value: bytes("v"), contentType: "text/plain" }), { name: "QuorumError" });
});

test("a write refused by replicas at a later epoch is stored again on the new placement as the same version, never a new one", async () => {
  // A new version after a partial write could let a value readers saw overwritten come
  // back; the same version only completes the write it was.
  const env = testEnv();
  const members = [SELF, ...PEERS].map((id) => ({ id, nonce: "n" }));
  let layout = new Layout({ cluster: "test", epoch: 1, phase: "stable", members, next: [], removed: [], pins: [], recoveries: [] }, 16, 3);
  const putVersions: Array<[number, string]> = [];
  const transport: Transport = {
    async send(_peer, _path, body) {
      const replies = decodeBatch(body, 128).map((bytes) => {
        const message = decodeKvRequest(bytes);
        if (message.type === "get") return { status: 200, body: encodeGetReply({}) };
        if (message.type !== "put") throw new Error(`unexpected ${message.type}`);
        putVersions.push([message.epoch, JSON.stringify(message.entry.version)]);
        if (message.epoch < 2) return { status: 409, body: new TextEncoder().encode(JSON.stringify({ error: "stale", epoch: 2 })) };
        return { status: 200, body: encodePutReply({ applied: true }) };
      });
      return { status: 200, body: encodeBatchReplies(replies) };
    },
    close: async () => {},
  };
  const store = new Store(() => env.clock.now());
  const hlc = new Hlc(SELF, () => env.clock.now());
  const coordinator = quorumCoordinator({
    self: SELF,
    placer: {
      place: (position) => layout.placement(position),
      placeKey: (key) => layout.placementOfHalves(ringHalves(key)),
      catchUp: async () => {
        layout = new Layout({ ...layout.state, epoch: 2 }, 16, 3);
      },
    },
    // This node's own store is at epoch 2 already: it refuses epoch 1 like the peers.
    replica: localReplica(store, hlc, () => false, (epoch) => {
      if (epoch < 2) throw new StaleEpochError(2, epoch);
    }),
    acceptor: new CasAcceptor(store, () => env.clock.now()),
    hlc,
    hints: new HintStore(),
    env: { clock: env.clock, transport, random: seededRandom(1) },
    config: { replicas: 3, writeQuorum: 2, readQuorum: 2, replicaTimeoutMs: 300 },
  });
  const { version } = await coordinator.put("k", { value: bytes("v"), contentType: "text/plain" });
  const attempts = new Map<number, Set<string>>();
  for (const [epoch, v] of putVersions) attempts.set(epoch, (attempts.get(epoch) ?? new Set()).add(v));
  assert.deepEqual([...attempts.keys()].sort(), [1, 2], "refused at epoch 1, stored at epoch 2");
  assert.deepEqual([...attempts.get(1)!], [JSON.stringify(version)]);
  assert.deepEqual([...attempts.get(2)!], [JSON.stringify(version)], "the same version both times");
  assert.deepEqual(store.get("k")?.version, version);
});

test("R = 1, W = 3: a read that finds nothing is an answer only once max(R, W) owners said so; one that finds a value writes it back to W", async () => {
  // So every completed read involves max(R, W) owners, as every write does, and a fence of
  // a majority of each owner set ends an epoch whatever R and W are.
  let peersAnswer = false;
  const { coordinator, store, hlc } = coordinatorWithPeers(() => ({ applied: true }), { writeQuorum: 3, readQuorum: 1 }, () => peersAnswer);
  await assert.rejects(Promise.resolve(coordinator.get("k")), { name: "QuorumError" }, "this node alone saying 'nothing here' is not enough");
  store.apply("k", { value: bytes("v"), contentType: "text/plain", version: hlc.next(), tombstone: false });
  await assert.rejects(Promise.resolve(coordinator.get("k")), { name: "QuorumError" }, "a value seen on one owner must reach W before it is returned");
  peersAnswer = true;
  assert.equal(new TextDecoder().decode((await coordinator.get("k"))!.value), "v");
  assert.equal(await coordinator.get("absent"), undefined);
});

/**
 * A coordinator and two peers that are real replicas (each its own store and acceptor),
 * its clock `skewMs` off theirs. `answers(peer, type)`: whether that peer answers a batch
 * holding a message of that type (otherwise the batch fails, as a lost one does).
 * `delivered`: awaited between a peer answering a batch and its reply arriving; `clock`:
 * the one to run on.
 */
function amongRealReplicas(answers: (peer: string, type: string) => boolean = () => true, skewMs = 0, delivered = async () => {}, clock?: VirtualClock) {
  const env = { ...testEnv(), ...(clock ? { clock } : {}) };
  const peers = new Map(PEERS.map((id) => {
    const store = new Store(() => env.clock.now());
    const acceptor = new CasAcceptor(store, () => env.clock.now());
    return [id, { store, acceptor, replica: localReplica(store, new Hlc(id, () => env.clock.now()), () => false, () => {}, acceptor) }];
  }));
  const sent: Array<{ peer: string; type: string; version?: string; head?: true; replyBytes?: number }> = [];
  const transport: Transport = {
    async send(peer, _path, body) {
      const messages = decodeBatch(body, 128).map(decodeKvRequest);
      const records = messages.map((m) => ({ peer, type: m.type, ...("entry" in m ? { version: JSON.stringify(m.entry.version) } : {}), ...("head" in m && m.head ? { head: m.head } : {}) }));
      sent.push(...records);
      if (messages.some((m) => !answers(peer, m.type))) throw new Error(`${peer} did not answer`);
      const answer = replicaMessages(peers.get(peer)!.replica, peers.get(peer)!.acceptor).answerBatch(body);
      decodeBatchReplies(answer, 128).forEach((reply, i) => Object.assign(records[i]!, { replyBytes: reply.body.byteLength }));
      await delivered();
      return { status: 200, body: answer };
    },
    close: async () => {},
  };
  const members = [SELF, ...PEERS].map((id) => ({ id, nonce: "n" }));
  const layout = new Layout({ cluster: "test", epoch: 1, phase: "stable", members, next: [], removed: [], pins: [], recoveries: [] }, 16, 3);
  const store = new Store(() => env.clock.now());
  const acceptor = new CasAcceptor(store, () => env.clock.now());
  const hlc = new Hlc(SELF, () => env.clock.now() + skewMs);
  const coordinator = quorumCoordinator({
    self: SELF,
    placer: { place: (position) => layout.placement(position), placeKey: (key) => layout.placementOfHalves(ringHalves(key)), catchUp: async () => {} },
    replica: localReplica(store, hlc, () => false, () => {}, acceptor),
    acceptor,
    hlc,
    hints: new HintStore(),
    env: { clock: env.clock, transport, random: seededRandom(1) },
    config: { replicas: 3, writeQuorum: 2, readQuorum: 2, replicaTimeoutMs: 300 },
  });
  return { coordinator, store, peers, sent, env };
}

const value = (text: string) => ({ value: bytes(text), contentType: "text/plain" });
const HOUR = 3_600_000;

test("through an owner, a write is one round trip: a put above what they hold to each other owner, and no read", async () => {
  const { coordinator, store, peers, sent } = amongRealReplicas();
  const { version } = await coordinator.put("k", value("v"));
  assert.deepEqual(sent.map((m) => m.type), ["put-above", "put-above"]);
  for (const holder of [store, ...[...peers.values()].map((p) => p.store)]) assert.deepEqual(holder.get("k")?.version, version);
});

test("owners holding a newer version refuse the put above it: the write starts over with both phases and lands above theirs", async () => {
  // This node's clock is an hour behind and it missed the last write: its version alone
  // would sort below a write that finished before this one began.
  const { coordinator, store, peers, sent, env } = amongRealReplicas(() => true, -HOUR);
  const finished: Version = { wall: env.clock.now(), logical: 0, node: PEERS[0]! };
  for (const p of peers.values()) p.replica.put("k", { value: bytes("earlier"), contentType: "text/plain", version: finished, tombstone: false });
  const { version } = await coordinator.put("k", value("later"));
  assert.ok(compareVersions(version, finished) > 0, `the write went above the one that finished before it: ${JSON.stringify(version)}`);
  assert.deepEqual(sent.slice(0, 2).map((m) => m.type), ["put-above", "put-above"]);
  assert.ok(sent.slice(2).some((m) => m.type === "get"), "then the first phase");
  assert.equal(new TextDecoder().decode(store.get("k")!.value), "later");
  assert.equal(new TextDecoder().decode((await coordinator.get("k"))!.value), "later");
});

test("a write's first phase asks for versions only: the replicas send no values back", async () => {
  // A large value the owners hold, and a coordinator an hour behind them, so its one-round
  // write is refused and the two phases run.
  const { coordinator, peers, sent, env } = amongRealReplicas(() => true, -HOUR);
  const large = new Uint8Array(64 * 1024).fill(7);
  const held: Entry = { value: large, contentType: "application/octet-stream", version: { wall: env.clock.now(), logical: 0, node: PEERS[0]! }, tombstone: false };
  for (const p of peers.values()) p.replica.put("k", held, 1);
  const { version } = await coordinator.put("k", value("small"));
  assert.ok(compareVersions(version, held.version) > 0, "the write went above the one the owners held");
  const gets = sent.filter((m) => m.type === "get");
  assert.ok(gets.length > 0, "the first phase ran");
  for (const get of gets) {
    assert.equal(get.head, true, "a first phase's get asks for no value");
    assert.ok(get.replyBytes! < 1024, `a ${get.replyBytes}-byte answer carries no value`);
  }
  // The control: the same answer with its value is the value's size.
  assert.ok(encodeGetReply({ entry: held }).byteLength > large.byteLength);
});

test("a put above that got no answer may have been stored: its version is kept only if a read quorum shows nothing above it", async () => {
  // The first owner loses the put above but answers reads; the second answers nothing.
  const lossy = amongRealReplicas((peer, type) => peer === PEERS[0] && type !== "put-above");
  const { version } = await lossy.coordinator.put("k", value("v"));
  const versions = new Set(lossy.sent.filter((m) => m.version).map((m) => m.version));
  assert.deepEqual([...versions], [JSON.stringify(version)], "one version in every put, never a second");
  assert.deepEqual(lossy.store.get("k")?.version, version);
  assert.deepEqual(lossy.peers.get(PEERS[0]!)!.store.get("k")?.version, version);

  // Now the first owner holds a newer version (a write this one overlaps, or one it missed):
  // the attempt's version cannot be vouched for, so the outcome is unknown, and this node never stored it.
  const refused = amongRealReplicas((peer) => peer === PEERS[0], -HOUR);
  const newer: Version = { wall: refused.env.clock.now(), logical: 0, node: PEERS[0]! };
  refused.peers.get(PEERS[0]!)!.replica.put("k", { value: bytes("newer"), contentType: "text/plain", version: newer, tombstone: false });
  await assert.rejects(refused.coordinator.put("k", value("v")), { name: "QuorumError" });
  assert.equal(refused.store.get("k"), undefined, "this node stores a version only once an owner vouched for it");
});

test("a one-round write through an owner that missed the newest write goes above a conditional write chosen over it but not yet committed", async () => {
  // The second owner holds a plain write the coordinator never saw (its clock is an hour
  // behind it, too); a conditional write over that one was accepted by both other owners,
  // so it is chosen and may have been answered, but its commit never left. The first owner
  // stores only an older version: a plain put there would land below the chosen write.
  const { coordinator, store, peers, env } = amongRealReplicas(() => true, -HOUR);
  const entryAt = (version: Version, text: string): Entry => ({ value: bytes(text), contentType: "text/plain", version, tombstone: false });
  const older: Version = { wall: env.clock.now() - 60_000, logical: 0, node: PEERS[0]! };
  const missed: Version = { wall: env.clock.now(), logical: 0, node: PEERS[1]! };
  const ballot = { epoch: 1, wall: env.clock.now(), logical: 1, node: PEERS[1]! };
  const chosen = entryAt(successor(missed, ballot), "chosen, not committed");
  store.apply("k", entryAt(older, "older"));
  const [first, second] = PEERS.map((id) => peers.get(id)!);
  first!.store.apply("k", entryAt(older, "older"));
  second!.store.apply("k", entryAt(missed, "missed"));
  for (const p of [first!, second!]) assert.deepEqual(p.acceptor.accept("k", ballot, missed, chosen, 1), { accepted: true });

  const { version } = await coordinator.put("k", value("after"));
  assert.ok(compareVersions(version, chosen.version) > 0, `the write went above the chosen one: ${JSON.stringify(version)}`);
  assert.equal(new TextDecoder().decode((await coordinator.get("k"))!.value), "after");
});

const turn = () => new Promise((r) => setImmediate(r));

/** Replies held until `drain()`: a batch in flight, answered by its replica already. */
function heldReplies(clock: { advance(ms: number): void }) {
  const waiting: Array<() => void> = [];
  return {
    delivered: () => new Promise<void>((resolve) => waiting.push(resolve)),
    /** Lets every message through, round after round (a held round ends within 1 ms). */
    async drain() {
      for (let i = 0; i < 20; i++) {
        waiting.splice(0).forEach((resolve) => resolve());
        clock.advance(1);
        await turn();
      }
    },
  };
}
const textOf = (e: Entry | undefined) => new TextDecoder().decode(e!.value);

test("reads of one key share a get still waiting for its batch: one message a round, each read answered", async () => {
  const clock = new VirtualClock();
  const held = heldReplies(clock);
  const { coordinator, store, peers, sent } = amongRealReplicas(() => true, 0, held.delivered, clock);
  const v1: Entry = { value: bytes("v1"), contentType: "text/plain", version: { wall: 1, logical: 0, node: SELF }, tombstone: false };
  for (const holder of [store, ...[...peers.values()].map((p) => p.store)]) holder.apply("k", v1);
  const first = coordinator.get("k");
  await turn();
  const rest = [coordinator.get("k"), coordinator.get("k"), coordinator.get("k")];
  await held.drain();
  assert.deepEqual((await Promise.all([first, ...rest])).map(textOf), ["v1", "v1", "v1", "v1"]);
  assert.deepEqual(sent.map((m) => m.type), ["get", "get"], "the first read's get, then one for the three waiting behind it");
});

test("a read begun after a get left never shares its reply: a write that finished in between is seen", async () => {
  // The replica answered the first read before the write reached it. The second read begins
  // after the write finished (on the two other owners, not this node): the first read's
  // answer would hide it, so the second asks the replica again.
  const clock = new VirtualClock();
  const held = heldReplies(clock);
  const { coordinator, store, peers } = amongRealReplicas(() => true, 0, held.delivered, clock);
  const at = (wall: number, text: string): Entry => ({ value: bytes(text), contentType: "text/plain", version: { wall, logical: 0, node: SELF }, tombstone: false });
  for (const holder of [store, ...[...peers.values()].map((p) => p.store)]) holder.apply("k", at(1, "v1"));
  const first = coordinator.get("k");
  await turn();
  for (const p of peers.values()) p.replica.put("k", at(2, "v2"), 1);
  const second = coordinator.get("k");
  await held.drain();
  assert.equal(textOf(await first), "v1", "begun before the write finished");
  assert.equal(textOf(await second), "v2", "begun after the write finished");
});
