import { test } from "node:test";
import assert from "node:assert/strict";
import { ownerOfTwoQuorum } from "../../lib/replication/context.ts";
import { encode } from "@msgpack/msgpack";
import { MessageError } from "../../lib/wire/fields.ts";
import {
  decodeGetReply,
  decodeKvRequest,
  decodePutReply,
  encodeGetReply,
  encodeKvRequest,
  encodePutReply,
} from "../../lib/wire/replica.ts";
import { type Consistency, firstSuccesses, isStale, newest, quorumSizes } from "../../lib/replication/quorum.ts";
import type { Entry } from "../../lib/store/store.ts";

const entry = (wall: number, node = "a:1", tombstone = false): Entry => ({
  value: new Uint8Array([wall % 256]),
  contentType: "text/plain",
  version: { wall, logical: 0, node },
  tombstone,
});

test("quorum sizes: the configured N/W/R, never more than the members there are", () => {
  const c = { replicas: 3, writeQuorum: 2, readQuorum: 2 };
  const table: Array<[number, "one" | "quorum" | "all" | undefined, [number, number, number]]> = [
    [5, undefined, [3, 2, 2]],
    [3, "quorum", [3, 2, 2]],
    [2, undefined, [2, 2, 2]],
    [1, undefined, [1, 1, 1]],
    [5, "one", [3, 1, 1]],
    [5, "all", [3, 3, 3]],
    [2, "all", [2, 2, 2]],
  ];
  for (const [available, consistency, [n, w, r]] of table) {
    assert.deepEqual(quorumSizes(c, available, consistency), { n, w, r }, `${available} ${consistency}`);
  }
});

test("newest picks the highest version; a missing or older entry is stale", () => {
  const table = [entry(5), undefined, entry(9, "b:1"), entry(9, "a:1"), entry(7)];
  assert.deepEqual(newest(table), entry(9, "b:1"));
  assert.equal(newest([undefined, undefined]), undefined);
  assert.ok(isStale(undefined, entry(1)));
  assert.ok(isStale(entry(1), entry(2)));
  assert.ok(!isStale(entry(2), entry(2)));
  assert.ok(!isStale(entry(3), entry(2)));
  assert.deepEqual(newest([entry(3), entry(4, "a:1", true)]), entry(4, "a:1", true), "tombstones are versions too");
});

test("firstSuccesses resolves at the quorum without waiting for stragglers, or when all have settled", async () => {
  const never = new Promise<number>(() => {});
  const quick = await firstSuccesses([Promise.resolve(1), never, Promise.resolve(2)], 2, () => true);
  assert.equal(quick.successes, 2);
  assert.deepEqual(quick.results, [1, undefined, 2]);
  const short = await firstSuccesses([Promise.resolve(1), Promise.reject(new Error("down")), Promise.resolve(0)], 2, (v) => v > 0);
  assert.equal(short.successes, 1, "rejections and refusals do not count");
  assert.deepEqual(short.results, [1, undefined, 0]);
  assert.deepEqual(await firstSuccesses([], 1, () => true), { successes: 0, results: [] });
});

test("the usual replies are the bytes msgpack gives for them, recognised without decoding; any other goes through the decoder", () => {
  const e = entry(1732320000000);
  const applied = encode({ applied: true, current: null });
  assert.deepEqual(encodePutReply({ applied: true }), applied, "what any node, old or new, decodes as stored");
  assert.deepEqual(decodePutReply(applied), { applied: true });
  assert.deepEqual(decodePutReply(encode({ applied: false, current: null })), { applied: false }, "one byte apart: decoded");
  assert.deepEqual(decodePutReply(encode({ applied: true })), { applied: true }, "another spelling: decoded");
  const same = encode({ same: true });
  assert.deepEqual(encodeGetReply({ entry: e }, e.version), same);
  assert.equal(decodeGetReply(same, e).entry, e, "'same' stands for the asker's own entry");
  assert.throws(() => decodeGetReply(same), /held nothing/, "'same' to a get that held nothing is still refused");
});

test("replica messages round-trip, and hostile ones are refused", () => {
  const e = entry(1732320000000);
  assert.deepEqual(decodeKvRequest(encodeKvRequest({ type: "put", epoch: 1, key: "k/ä", entry: e })), { type: "put", epoch: 1, key: "k/ä", entry: e });
  assert.deepEqual(decodeKvRequest(encodeKvRequest({ type: "put-above", epoch: 1, key: "k/ä", entry: e })), { type: "put-above", epoch: 1, key: "k/ä", entry: e });
  assert.deepEqual(decodeKvRequest(encodeKvRequest({ type: "get", epoch: 1, key: "k" })), { type: "get", epoch: 1, key: "k" });
  assert.deepEqual(decodePutReply(encodePutReply({ applied: false, current: e.version })), { applied: false, current: e.version });
  assert.deepEqual(decodePutReply(encodePutReply({ applied: true })), { applied: true });
  assert.deepEqual(decodeGetReply(encodeGetReply({ entry: e })), { entry: e });
  assert.deepEqual(decodeGetReply(encodeGetReply({})), {});
  // A conditional write accepted above the store travels beside the entry, or alone, or with 'same'.
  const ballot = { epoch: 2, wall: 9, logical: 0, node: "10.0.0.3:7000" };
  const pending = { ballot, base: e.version, entry: { ...e, version: { ...e.version, step: 1, ballot } } };
  assert.deepEqual(decodeGetReply(encodeGetReply({ entry: e, pending })), { entry: e, pending });
  assert.deepEqual(decodeGetReply(encodeGetReply({ pending })), { pending });
  assert.deepEqual(decodeGetReply(encodeGetReply({ entry: e, pending }, e.version), e), { entry: e, pending }, "'same' keeps the pending version");
  const bad = [
    new Uint8Array([0xc1]),
    encode({ type: "put", epoch: 1, key: "k" }),
    encode({ type: "put", epoch: 1, key: "k", entry: ["not bytes", "t", [1, 0, "a"], false] }),
    encode({ type: "put", epoch: 1, key: "k", entry: [new Uint8Array(1), "t", [-1, 0, "a"], false] }),
    encode({ type: "put", epoch: 1, key: "", entry: [new Uint8Array(1), "t", [1, 0, "a"], false] }),
    encode({ type: "drop-table", key: "k" }),
    encode([1, 2]),
  ];
  for (const b of bad) assert.throws(() => decodeKvRequest(b), MessageError);
  // A put above what the replica holds carries a plain write; a conditional one is stored only once Paxos chose it.
  const conditional = [new Uint8Array(1), "t", [1, 0, "10.0.0.1:1", 1, 2, 3, 0, "10.0.0.2:2"], false];
  assert.equal(decodeKvRequest(encode({ type: "put", e: 1, key: "k", entry: conditional })).type, "put");
  assert.throws(() => decodeKvRequest(encode({ type: "put-above", e: 1, key: "k", entry: conditional })), /plain write's entry/);
  assert.throws(() => decodePutReply(encode({ applied: "yes" })), MessageError);
  assert.throws(() => decodeKvRequest(encode({ type: "get", epoch: 1, key: "k", have: "newest" })), MessageError);
});

test("a head get is answered with the entry but not its value: its version, expiry and tombstone kept", () => {
  const held = { ...entry(1732320000000), value: new Uint8Array(4096).fill(1), expires: 1732320060000 };
  const request = decodeKvRequest(encodeKvRequest({ type: "get", epoch: 1, key: "k", head: true }));
  assert.deepEqual(request, { type: "get", epoch: 1, key: "k", head: true });
  assert.equal((decodeKvRequest(encodeKvRequest({ type: "get", epoch: 1, key: "k" })) as { head?: true }).head, undefined, "a plain get is no head");
  const withHave = decodeKvRequest(encodeKvRequest({ type: "get", epoch: 1, key: "k", have: held.version, head: true }));
  assert.deepEqual(withHave, { type: "get", epoch: 1, key: "k", have: held.version, head: true });
  const reply = encodeGetReply({ entry: held }, undefined, true);
  assert.ok(reply.byteLength < 100, `${reply.byteLength} bytes`);
  assert.deepEqual(decodeGetReply(reply), { entry: { ...held, value: new Uint8Array(0) } });
  assert.deepEqual(encodeGetReply({ entry: held }, held.version, true), encode({ same: true }), "'same' as before");
  assert.deepEqual(decodeGetReply(encodeGetReply({ entry: held })), { entry: held }, "without head, the value travels");
});

test("a get that says what the asker holds is answered 'same' only for exactly that version", () => {
  const held = entry(1732320000000);
  const request = decodeKvRequest(encodeKvRequest({ type: "get", epoch: 1, key: "k", have: held.version }));
  assert.deepEqual(request, { type: "get", epoch: 1, key: "k", have: held.version });
  const same = encodeGetReply({ entry: { ...held, value: new Uint8Array(0) } }, held.version);
  assert.ok(same.byteLength < 10, "no entry on the wire");
  assert.deepEqual(decodeGetReply(same, held), { entry: held }, "'same' stands for the asker's own entry");
  assert.throws(() => decodeGetReply(same), MessageError, "'same' to an asker that held nothing");
  for (const other of [entry(1732320000001), { ...held, version: { ...held.version, node: "another:1" } }]) {
    const reply = decodeGetReply(encodeGetReply({ entry: other }, held.version), held);
    assert.deepEqual(reply, { entry: other }, "a different version comes back whole");
  }
  assert.deepEqual(decodeGetReply(encodeGetReply({}, held.version), held), {}, "nothing held is nothing, whatever the asker has");
});

test("the usual case, where this node and one other owner make both quorums: a stable ring, this node an owner, R = 2, W ≤ 2", () => {
  const self = "a:1";
  const config = { replicas: 3, writeQuorum: 2, readQuorum: 2 };
  const stable = { epoch: 1, read: ["b:1", self, "c:1"], writes: [["b:1", self, "c:1"]] };
  const cases: Array<[string, Parameters<typeof ownerOfTwoQuorum>[1], Consistency, typeof config, boolean]> = [
    ["stable, an owner, N=3 W=R=2", stable, "quorum", config, true],
    ["not an owner", { ...stable, read: ["b:1", "c:1", "d:1"], writes: [["b:1", "c:1", "d:1"]] }, "quorum", config, false],
    ["a range moving (two write sets)", { ...stable, writes: [stable.writes[0]!, ["b:1", self, "d:1"]] }, "quorum", config, false],
    ["consistency=one (R = 1)", stable, "one", config, false],
    ["consistency=all (W = 3)", stable, "all", config, false],
    ["two owners, W = R = 2", { ...stable, read: [self, "b:1"], writes: [[self, "b:1"]] }, "quorum", config, true],
    ["N=5, W=R=3", { ...stable, read: [self, "b:1", "c:1", "d:1", "e:1"], writes: [[self, "b:1", "c:1", "d:1", "e:1"]] }, "quorum", { replicas: 5, writeQuorum: 3, readQuorum: 3 }, false],
    ["R = 2, W = 1", stable, "quorum", { replicas: 3, writeQuorum: 1, readQuorum: 2 }, true],
  ];
  for (const [name, p, consistency, c, expected] of cases) assert.equal(ownerOfTwoQuorum({ self, config: c }, p, consistency), expected, name);
});
