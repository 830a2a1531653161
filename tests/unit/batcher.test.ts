import { test } from "node:test";
import assert from "node:assert/strict";
import { Batcher, type BatchReply } from "../../lib/replication/batcher.ts";
import { type GetShare, sameGet } from "../../lib/replication/replica_client.ts";
import type { Version } from "../../lib/store/version.ts";
import { VirtualClock } from "../../lib/sim/clock.ts";
import { encode } from "@msgpack/msgpack";
import { defaultConfig } from "../../lib/config.ts";
import { createNode } from "../../lib/node.ts";
import { decodeBatchReplies, decodeGetReply, decodePutReply, encodeBatch, encodeKvRequest } from "../../lib/wire/replica.ts";
import { testEnv } from "../support/env.ts";
import { labelled, unlabelled } from "../support/label.ts";

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (b: Uint8Array) => new TextDecoder().decode(b);
const settle = () => new Promise<void>((r) => setTimeout(r, 0));

/** A peer that answers each message with "re:" + message, once the test releases the batch. */
function fakePeer() {
  const batches: Array<{ peer: string; messages: string[]; release(): void; fail(err: Error): void }> = [];
  const send = (peer: string, messages: Uint8Array[]) =>
    new Promise<BatchReply[]>((resolve, reject) => {
      batches.push({
        peer,
        messages: messages.map(text),
        release: () => resolve(messages.map((m) => ({ status: 200, body: bytes(`re:${text(m)}`) }))),
        fail: reject,
      });
    });
  return { batches, send };
}

const options = { maxInFlight: 2, maxMessages: 3, maxBytes: 1024, timeoutMs: 300, holdMs: 5, maxWaiting: 100 };

test("an idle peer gets each message at once; under load waiting messages leave together", async () => {
  const peer = fakePeer();
  const b = new Batcher(peer.send, new VirtualClock(), options);
  const first = b.request("p", bytes("1"));
  await settle();
  assert.deepEqual(peer.batches.map((x) => x.messages), [["1"]], "alone, without waiting for company");
  const second = b.request("p", bytes("2"));
  await settle();
  const rest = ["3", "4", "5", "6", "7"].map((m) => b.request("p", bytes(m)));
  await settle();
  assert.deepEqual(peer.batches.map((x) => x.messages), [["1"], ["2"]], "two in flight: the rest wait");
  peer.batches[0]!.release();
  assert.equal(text((await first).body), "re:1");
  await settle();
  assert.deepEqual(peer.batches[2]!.messages, ["3", "4", "5"], "the waiting leave together, at most maxMessages");
  peer.batches[1]!.release();
  await settle();
  assert.deepEqual(peer.batches[3]!.messages, ["6", "7"]);
  peer.batches[2]!.release();
  peer.batches[3]!.release();
  assert.equal(text((await second).body), "re:2");
  assert.deepEqual((await Promise.all(rest)).map((r) => text(r.body)), ["re:3", "re:4", "re:5", "re:6", "re:7"], "each gets its own reply");
});

test("a peer's queue is bounded: past maxWaiting a message fails at once, and the queue drains", async () => {
  const peer = fakePeer();
  const b = new Batcher(peer.send, new VirtualClock(), { ...options, maxInFlight: 1, maxWaiting: 3 });
  const first = b.request("p", bytes("1"));
  await settle();
  const queued = ["2", "3", "4"].map((m) => b.request("p", bytes(m)));
  await assert.rejects(b.request("p", bytes("x")), { name: "BatchQueueFull" });
  const other = b.request("q", bytes("5"));
  await settle();
  for (const batch of peer.batches) batch.release();
  await settle();
  for (const batch of peer.batches) batch.release();
  assert.deepEqual((await Promise.all([first, ...queued, other])).map((r) => text(r.body)), ["re:1", "re:2", "re:3", "re:4", "re:5"], "the others are answered");
});

test("messages from one turn share a batch; peers are batched apart", async () => {
  const peer = fakePeer();
  const b = new Batcher(peer.send, new VirtualClock(), options);
  void b.request("p", bytes("a"));
  void b.request("q", bytes("b"));
  void b.request("p", bytes("c"));
  await settle();
  assert.deepEqual(peer.batches.map((x) => [x.peer, x.messages]), [["p", ["a", "c"]], ["q", ["b"]]]);
});

test("a failed batch fails each of its messages, and the next batch still goes", async () => {
  const peer = fakePeer();
  const b = new Batcher(peer.send, new VirtualClock(), { ...options, maxInFlight: 1 });
  const one = b.request("p", bytes("1"));
  await settle();
  const two = b.request("p", bytes("2"));
  peer.batches[0]!.fail(new Error("peer unreachable"));
  await assert.rejects(one, /unreachable/);
  await settle();
  assert.deepEqual(peer.batches[1]!.messages, ["2"]);
  peer.batches[1]!.release();
  assert.equal(text((await two).body), "re:2");
});

test("a message that waited past the timeout fails instead of being sent late", async () => {
  const peer = fakePeer();
  const clock = new VirtualClock();
  const b = new Batcher(peer.send, clock, { ...options, maxInFlight: 1 });
  void b.request("p", bytes("slow"));
  await settle();
  const late = b.request("p", bytes("late"));
  clock.advance(301);
  peer.batches[0]!.release();
  await assert.rejects(late, /waited over 300 ms/);
  await settle();
  assert.equal(peer.batches.length, 1, "nothing was sent for it");
});

test("a batch stays under maxBytes, and a larger message goes alone", async () => {
  const peer = fakePeer();
  const b = new Batcher(peer.send, new VirtualClock(), { ...options, maxInFlight: 1, maxMessages: 10, maxBytes: 10 });
  void b.request("p", bytes("x"));
  await settle();
  for (const m of ["aaaa", "bbbb", "cccc", "d".repeat(50), "e"]) void b.request("p", bytes(m));
  for (let i = 0; i < 4; i++) {
    peer.batches[i]!.release();
    await settle();
  }
  assert.deepEqual(peer.batches.map((x) => x.messages.map((m) => m.length)), [[1], [4, 4], [4], [50], [1]]);
});

/** A batcher whose first round, reads `1`..`n` in one batch, has just come back. */
async function afterReadRound(n: number) {
  const peer = fakePeer();
  const clock = new VirtualClock();
  const b = new Batcher(peer.send, clock, { ...options, maxInFlight: 1, maxMessages: 10 });
  const round = Array.from({ length: n }, (_, i) => b.request("p", bytes(String(i + 1)), true));
  await settle();
  assert.deepEqual(peer.batches.map((x) => x.messages), [round.map((_, i) => String(i + 1))]);
  peer.batches[0]!.release();
  await Promise.all(round);
  await settle();
  return { peer, clock, b };
}

test("after a round of reads comes back, the next reads wait until as many as it had are there, and leave together", async () => {
  const { peer, b } = await afterReadRound(3);
  void b.request("p", bytes("a"), true);
  void b.request("p", bytes("b"), true);
  await settle();
  assert.equal(peer.batches.length, 1, "two of three: still held");
  void b.request("p", bytes("c"), true);
  await settle();
  assert.deepEqual(peer.batches.map((x) => x.messages), [["1", "2", "3"], ["a", "b", "c"]]);
});

test("a held read waits holdMs at most", async () => {
  const { peer, clock, b } = await afterReadRound(3);
  const a = b.request("p", bytes("a"), true);
  await settle();
  clock.advance(4);
  await settle();
  assert.equal(peer.batches.length, 1, "held");
  clock.advance(1);
  await settle();
  assert.deepEqual(peer.batches[1]!.messages, ["a"], "sent alone when the hold ran out");
  peer.batches[1]!.release();
  assert.equal(text((await a).body), "re:a");
});

test("a message that is not a read ends the hold at once and takes the held reads with it", async () => {
  const { peer, b } = await afterReadRound(3);
  void b.request("p", bytes("a"), true);
  await settle();
  void b.request("p", bytes("write"));
  await settle();
  assert.deepEqual(peer.batches[1]!.messages, ["a", "write"]);
});

test("nothing is held at low load, or after a round with a write in it", async () => {
  const { peer, b } = await afterReadRound(1);
  void b.request("p", bytes("a"), true);
  await settle();
  assert.deepEqual(peer.batches[1]!.messages, ["a"], "a round of one read: the next goes at once");
  void b.request("p", bytes("b"), true);
  void b.request("p", bytes("write"));
  peer.batches[1]!.release();
  await settle();
  assert.deepEqual(peer.batches[2]!.messages, ["b", "write"]);
  peer.batches[2]!.release();
  await settle();
  void b.request("p", bytes("c"), true);
  await settle();
  assert.deepEqual(peer.batches[3]!.messages, ["c"], "the last round held a write: no hold");
});

test("a request joins a message still waiting under the same name, and shares its reply; once it left, nothing can join it", async () => {
  const peer = fakePeer();
  const b = new Batcher(peer.send, new VirtualClock(), { ...options, maxInFlight: 1 });
  void b.request("p", bytes("busy"));
  await settle();
  const own = b.request("p", bytes("get k"), true, { name: "k" });
  const joined = b.join("p", { name: "k" }, () => true);
  assert.ok(joined, "waiting: it can be joined");
  assert.equal(b.join("p", { name: "k" }, () => false), undefined, "one that does not ask the same is another message");
  assert.equal(b.join("p", { name: "other" }, () => true), undefined, "another name is another message");
  assert.equal(b.join("q", { name: "k" }, () => true), undefined, "another peer's queue is another queue");
  peer.batches[0]!.release();
  await settle();
  assert.deepEqual(peer.batches[1]!.messages, ["get k"], "sent once");
  assert.equal(b.join("p", { name: "k" }, () => true), undefined, "in flight: too late to join");
  peer.batches[1]!.release();
  assert.deepEqual([text((await own).body), text((await joined!).body)], ["re:get k", "re:get k"]);
});

test("joined requests count toward a held round, and fail with their message when it waits too long", async () => {
  const { peer, b } = await afterReadRound(3);
  void b.request("p", bytes("a"), true, { name: "a" });
  void b.join("p", { name: "a" }, () => true);
  await settle();
  assert.equal(peer.batches.length, 1, "two requests of three: still held");
  void b.join("p", { name: "a" }, () => true);
  await settle();
  assert.deepEqual(peer.batches[1]!.messages, ["a"], "three requests, one message: the round leaves");

  const slow = await afterReadRound(1);
  void slow.b.request("p", bytes("x"));
  await settle();
  const own = slow.b.request("p", bytes("b"), true, { name: "b" });
  const joined = slow.b.join("p", { name: "b" }, () => true)!;
  slow.clock.advance(301);
  slow.peer.batches[1]!.release();
  await assert.rejects(own, /waited over 300 ms/);
  await assert.rejects(joined, /waited over 300 ms/);
  assert.equal(slow.b.join("p", { name: "b" }, () => true), undefined, "a message that failed cannot be joined");
});

test("two gets ask the same only with one key, one epoch, and the same version held or none", () => {
  const v = { wall: 5, logical: 1, node: "a:1" };
  const ballot = { epoch: 1, wall: 6, logical: 0, node: "b:1" };
  const get = (have: Version | undefined, epoch = 3, name = "k"): GetShare => ({ name, epoch, have });
  const cases: Array<[string, GetShare, GetShare, boolean]> = [
    ["same key, epoch and version", get(v), get({ ...v }), true],
    ["both hold nothing", get(undefined), get(undefined), true],
    ["another key", get(v), get(v, 3, "j"), false],
    ["another epoch", get(v), get(v, 4), false],
    ["a newer version", get(v), get({ ...v, logical: 2 }), false],
    ["one holds nothing, the other something", get(undefined), get(v), false],
    ["one holds something, the other nothing", get(v), get(undefined), false],
    ["a conditional write's step above it", get(v), get({ ...v, step: 1, ballot }), false],
  ];
  for (const [name, a, b, expected] of cases) assert.equal(sameGet(a, b), expected, name);
});

test("POST /_kv/batch answers each message as its own route would, and refuses a bad batch whole", async () => {
  const node = createNode(defaultConfig({ port: 7000 }), testEnv(), { runtime: "test" });
  const post = (body: Uint8Array) => node.fetch(new Request("http://n/_kv/batch", { method: "POST", body: labelled(body) }));
  const entry = { value: bytes("v"), contentType: "text/plain", version: { wall: 5, logical: 0, node: "a:1" }, tombstone: false };
  const batch = encodeBatch([encodeKvRequest({ type: "put", epoch: 1, key: "k", entry }), bytes("garbage"), encodeKvRequest({ type: "get", epoch: 1, key: "k" })]);
  const res = await post(batch);
  assert.equal(res.status, 200);
  const replies = decodeBatchReplies(unlabelled(new Uint8Array(await res.arrayBuffer())), 128);
  assert.deepEqual(replies.map((r) => r.status), [200, 400, 200]);
  assert.deepEqual(decodePutReply(replies[0]!.body), { applied: true });
  assert.equal(text(decodeGetReply(replies[2]!.body).entry!.value), "v");
  assert.match(JSON.parse(text(replies[1]!.body)).error, /bad message/);
  for (const bad of [bytes("not msgpack"), encode({ a: 1 }), encode([1, 2]), encode(Array.from({ length: 129 }, () => new Uint8Array(1)))]) {
    const r = await post(bad);
    assert.equal(r.status, 400);
  }
  await node.stop();
});
