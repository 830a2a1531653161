import { test } from "node:test";
import assert from "node:assert/strict";
import { encode } from "@msgpack/msgpack";
import { defaultConfig } from "../../lib/config.ts";
import { MessageError } from "../../lib/wire/fields.ts";
import { createNode } from "../../lib/node.ts";
import { VirtualClock } from "../../lib/sim/clock.ts";
import { BUCKET_BITS, BucketDigests, BUCKETS, bucketOf } from "../../lib/sync/digest.ts";
import { joinHalves, positionHalvesOfBytes, ringPosition } from "../../lib/ring/hash.ts";
import {
  decodeDigestReply,
  decodeDigestRequest,
  decodeOfferReply,
  decodeOfferRequest,
  decodePushReply,
  decodePushRequest,
  encodeDigestReply,
  encodeDigestRequest,
  encodeOfferReply,
  encodeOfferRequest,
  encodePushReply,
  encodePushRequest,
} from "../../lib/wire/sync.ts";
import { Throttle } from "../../lib/sync/throttle.ts";
import { decodeBatchReplies, encodeBatch, encodeKvRequest } from "../../lib/wire/replica.ts";
import { testEnv } from "../support/env.ts";
import { labelled, unlabelled } from "../support/label.ts";

const v = (wall: number, logical = 0, node = "a:1") => ({ wall, logical, node });
const entry = (text: string, wall: number, tombstone = false) => ({ value: new TextEncoder().encode(text), contentType: "text/plain", version: v(wall), tombstone });

test("bucket summaries ignore the order entries were stored in, and see any change of version or key", () => {
  const items: Array<[number, number, number]> = Array.from({ length: 500 }, (_, i) => [i % 7, (i * 2654435761) >>> 0, 1_700_000_000_000 + i]);
  const forward = new BucketDigests();
  const backward = new BucketDigests();
  for (const [b, h, wall] of items) forward.add(b, h, v(wall));
  for (const [b, h, wall] of [...items].reverse()) backward.add(b, h, v(wall));
  assert.deepEqual(forward.differences(backward.summaries()), []);

  const newer = new BucketDigests();
  items.forEach(([b, h, wall], i) => newer.add(b, h, v(i === 10 ? wall + 1 : wall)));
  assert.deepEqual(forward.differences(newer.summaries()), [[items[10]![0], forward.summaries().find((s) => s[0] === items[10]![0])![3]]]);

  const fewer = new BucketDigests();
  items.slice(1).forEach(([b, h, wall]) => fewer.add(b, h, v(wall)));
  assert.equal(fewer.differences(forward.summaries()).length, 1, "a missing key shows in its bucket only");
  assert.deepEqual(new BucketDigests().differences(forward.summaries()).map(([, count]) => count), [0, 0, 0, 0, 0, 0, 0], "an empty side reports count 0");
});

test("buckets are the top bits of a position", () => {
  const bucketOfPosition = (position: bigint) => bucketOf(Number(position >> 32n));
  assert.equal(bucketOfPosition(0n), 0);
  assert.equal(bucketOfPosition(2n ** 64n - 1n), BUCKETS - 1);
  assert.equal(bucketOfPosition(2n ** 63n), BUCKETS / 2);
  // From the halves the scan reads a stored key's position in.
  for (const key of ["", "a", "key:000000000042", "𝄞 ✓", "x".repeat(300)]) {
    const bytes = new TextEncoder().encode(key);
    const halves = positionHalvesOfBytes(bytes, 0, bytes.length, { high: 0, low: 0 });
    assert.equal(joinHalves(halves), ringPosition(key), key);
    assert.equal(bucketOf(halves.high), Number(ringPosition(key) >> BigInt(64 - BUCKET_BITS)), key);
  }
});

test("stabilisation messages round-trip through msgpack", () => {
  const digest = { from: "a:1", buckets: [[0, 1, 2, 3], [BUCKETS - 1, 0xffff_ffff, 0, 1]] as Array<[number, number, number, number]> };
  assert.deepEqual(decodeDigestRequest(encodeDigestRequest(digest)), digest);
  assert.deepEqual(decodeDigestReply(encodeDigestReply({ differ: [[5, 0], [6, 9]] })), { differ: [[5, 0], [6, 9]] });
  const offer = { from: "a:1", keys: [["k/ ✓", v(5, 1, "b:2")]] as Array<[string, ReturnType<typeof v>]> };
  assert.deepEqual(decodeOfferRequest(encodeOfferRequest(offer)), offer);
  assert.deepEqual(decodeOfferReply(encodeOfferReply({ want: [0, 3], pending: [1] })), { want: [0, 3], pending: [1] });
  const push = { from: "a:1", reason: "handoff" as const, entries: [["k", entry("x", 9)], ["gone", entry("", 10, true)]] as Array<[string, ReturnType<typeof entry>]> };
  assert.deepEqual(decodePushRequest(encodePushRequest(push)), push);
  assert.deepEqual(decodePushReply(encodePushReply({ applied: 2 })), { applied: 2 });
});

test("malformed and hostile stabilisation messages are refused with a MessageError", () => {
  const cases: Array<[string, () => unknown]> = [
    ["digest bucket out of range", () => decodeDigestRequest(encode({ from: "a", buckets: [[BUCKETS, 0, 0, 1]] }))],
    ["digest sum negative", () => decodeDigestRequest(encode({ from: "a", buckets: [[1, -1, 0, 1]] }))],
    ["digest too many buckets", () => decodeDigestRequest(encode({ from: "a", buckets: Array.from({ length: BUCKETS + 1 }, () => [0, 0, 0, 0]) }))],
    ["digest without from", () => decodeDigestRequest(encode({ buckets: [] }))],
    ["offer with a bad version", () => decodeOfferRequest(encode({ from: "a", keys: [["k", [1, 2]]] }))],
    ["offer with an empty key", () => decodeOfferRequest(encode({ from: "a", keys: [["", [1, 2, "n"]]] }))],
    ["offer reply index out of range", () => decodeOfferReply(encode({ want: [1e9] }))],
    ["push with an unknown reason", () => decodePushRequest(encode({ from: "a", reason: "gift", entries: [] }))],
    ["push value not bytes", () => decodePushRequest(encode({ from: "a", reason: "repair", entries: [["k", "text", "", [1, 0, "n"], false]] }))],
    ["push tombstone not boolean", () => decodePushRequest(encode({ from: "a", reason: "repair", entries: [["k", new Uint8Array(1), "", [1, 0, "n"], 0]] }))],
    ["truncated", () => decodePushRequest(encodePushRequest({ from: "a", reason: "repair", entries: [["k", entry("x", 1)]] }).slice(0, 10))],
    ["not a map", () => decodeDigestReply(encode([1]))],
  ];
  for (const [what, decode] of cases) assert.throws(decode, MessageError, what);
});

test("the node answers hostile /_kv/ stabilisation bodies with a 4xx and keeps its data", async () => {
  const node = createNode(defaultConfig({ port: 7000 }), testEnv(), { runtime: "test" });
  node.store.apply("k", entry("kept", 100));
  const post = (path: string, body: Uint8Array) => node.fetch(new Request(`http://n${path}`, { method: "POST", body: labelled(body) }));
  for (const path of ["/_kv/digest", "/_kv/offer", "/_kv/push"]) {
    for (const body of [new TextEncoder().encode("not msgpack"), new Uint8Array([0xdf, 0xff, 0xff, 0xff, 0xff])]) {
      const res = await post(path, body);
      assert.equal(res.status, 400, path);
      assert.equal(typeof (await res.json()).error, "string");
    }
  }
  assert.equal((await post("/_kv/digest", new Uint8Array(70 * 1024))).status, 413);
  // A real push of an older version is refused; a newer one lands; an offer names what is wanted.
  const older = encodePushRequest({ from: "a:1", reason: "repair", entries: [["k", entry("old", 50)], ["new", entry("n", 1)]] });
  assert.deepEqual(decodePushReply(unlabelled(new Uint8Array(await (await post("/_kv/push", older)).arrayBuffer()))), { applied: 1 });
  assert.equal(new TextDecoder().decode(node.store.get("k")!.value), "kept");
  const offered = async (from: string) => decodeOfferReply(unlabelled(new Uint8Array(await (await post("/_kv/offer", encodeOfferRequest({ from, keys: [["k", v(100)], ["k", v(101)], ["absent", v(1)]] }))).arrayBuffer())));
  assert.deepEqual(await offered("a:1"), { want: [1, 2], pending: [] });
  assert.deepEqual(await offered("b:1"), { want: [], pending: [1, 2] }, "a second owner offering the same is told they are on their way");
  assert.deepEqual(await offered("a:1"), { want: [1, 2], pending: [] }, "the first may offer again (its push may have failed)");
  const sync = await (await node.fetch(new Request("http://n/cluster/sync"))).json();
  assert.equal(sync.liveKeys, 2);
  assert.equal(sync.leaving, false);
  await node.stop();
});

test("the throttle lets a second's worth through at once, then paces to the rate", async () => {
  const clock = new VirtualClock();
  const throttle = new Throttle(clock, 1000);
  const done: number[] = [];
  const started = clock.monotonicMs();
  await throttle.take(1000);
  const paced = [throttle.take(500).then(() => done.push(clock.monotonicMs() - started)), throttle.take(500).then(() => done.push(clock.monotonicMs() - started))];
  await clock.run(2_000, () => new Promise((r) => setTimeout(r, 0)));
  await Promise.all(paced);
  assert.deepEqual(done, [500, 1000]);
});

test("a leaving node refuses writes, offers and pushes with a 503, and still answers reads", async () => {
  const node = createNode(defaultConfig({ port: 7000 }), testEnv(), { runtime: "test" });
  node.store.apply("k", entry("kept", 100));
  node.start();
  assert.deepEqual(await node.syncer.leave(0), { handedOff: false, remaining: 1 }, "alone: nobody to hand its key to, and it says so");
  const post = (path: string, body: Uint8Array) => node.fetch(new Request(`http://n${path}`, { method: "POST", body: labelled(body) }));
  // Replica messages travel in batches; each is answered as it would be alone.
  const inBatch = async (message: Uint8Array) => {
    const res = await post("/_kv/batch", encodeBatch([message]));
    assert.equal(res.status, 200);
    const [reply] = decodeBatchReplies(unlabelled(new Uint8Array(await res.arrayBuffer())), 128);
    return { status: reply!.status, body: () => JSON.parse(new TextDecoder().decode(reply!.body)) };
  };
  const put = await inBatch(encodeKvRequest({ type: "put", epoch: 1, key: "k2", entry: entry("x", 200) }));
  assert.equal(put.status, 503, "a replica put");
  assert.match(put.body().error, /leaving/);
  assert.equal(put.body().leaving, true, "leaving is a field of the refusal, not only its text");
  const refused: Array<[string, Uint8Array]> = [
    ["/_kv/offer", encodeOfferRequest({ from: "a:1", keys: [["k2", v(200)]] })],
    ["/_kv/push", encodePushRequest({ from: "a:1", reason: "handoff", entries: [["k2", entry("x", 200)]] })],
  ];
  for (const [path, body] of refused) {
    const res = await post(path, body);
    assert.equal(res.status, 503, path);
    assert.match((await res.json()).error, /leaving/);
  }
  assert.equal((await node.fetch(new Request("http://n/d/k3", { method: "PUT", body: "v" }))).status, 503);
  assert.equal(node.store.get("k2"), undefined);
  assert.equal((await inBatch(encodeKvRequest({ type: "get", epoch: 1, key: "k" }))).status, 200);
  assert.equal((await (await node.fetch(new Request("http://n/cluster/sync"))).json()).leaving, true);
  await node.stop();
});
