import { test } from "node:test";
import assert from "node:assert/strict";
import { type Entry, keyBytes, Store } from "../../lib/store/store.ts";

const bytes = (s: string) => new TextEncoder().encode(s);
const put = (wall: number, value: string, node = "a"): Entry => ({
  value: bytes(value),
  contentType: "text/plain",
  version: { wall, logical: 0, node },
  tombstone: false,
});
const tomb = (wall: number, node = "a"): Entry => ({
  value: new Uint8Array(0),
  contentType: "",
  version: { wall, logical: 0, node },
  tombstone: true,
});

test("a replica accepts only newer versions and says what it holds when it refuses", () => {
  const store = new Store(() => 0);
  assert.deepEqual(store.apply("k", put(10, "first")), { applied: true });
  const refused = store.apply("k", put(5, "older"));
  assert.equal(refused.applied, false);
  assert.equal(!refused.applied && new TextDecoder().decode(refused.current.value), "first");
  // The same version again (a retried message) is not newer either.
  assert.equal(store.apply("k", put(10, "first")).applied, false);
  assert.equal(store.apply("k", put(11, "second")).applied, true);
  assert.equal(new TextDecoder().decode(store.get("k")!.value), "second");
});

test("a tombstone wins over older writes and loses to newer ones", () => {
  const store = new Store(() => 0);
  store.apply("k", put(10, "v"));
  assert.equal(store.apply("k", tomb(20)).applied, true);
  assert.equal(store.apply("k", put(15, "late arrival")).applied, false);
  assert.equal(store.get("k")!.tombstone, true);
  assert.equal(store.apply("k", put(30, "rewritten")).applied, true);
  assert.equal(store.get("k")!.tombstone, false);
});

test("stats count live keys, tombstones and the bytes of keys and values", () => {
  const store = new Store(() => 0);
  store.apply("ab", put(1, "xyz"));
  store.apply("é", put(1, "12345"));
  assert.deepEqual(store.stats(), { liveKeys: 2, tombstones: 0, bytes: 2 + 3 + 2 + 5 });
  store.apply("ab", put(2, "x"));
  assert.deepEqual(store.stats(), { liveKeys: 2, tombstones: 0, bytes: 2 + 1 + 2 + 5 });
  store.apply("ab", tomb(3));
  assert.deepEqual(store.stats(), { liveKeys: 1, tombstones: 1, bytes: 2 + 2 + 5 });
});

test("tombstones are purged once their grace period has passed, and not before", () => {
  let now = 1000;
  const store = new Store(() => now);
  store.apply("old", put(1, "v"));
  store.apply("old", tomb(2));
  now = 1500;
  store.apply("newer", tomb(3));
  store.apply("live", put(4, "v"));
  assert.equal(store.purgeTombstones(1000), 0, "nothing is a full grace period old yet");
  now = 2000;
  assert.equal(store.purgeTombstones(1000), 1);
  assert.equal(store.get("old"), undefined);
  assert.ok(store.get("newer"));
  now = 2500;
  assert.equal(store.purgeTombstones(1000), 1);
  assert.equal(store.get("newer"), undefined);
  assert.ok(store.get("live"), "live keys are never purged");
  assert.deepEqual(store.stats(), { liveKeys: 1, tombstones: 0, bytes: 4 + 1 });
});

test("a key rewritten after its delete is no longer a tombstone to purge", () => {
  let now = 0;
  const store = new Store(() => now);
  store.apply("k", tomb(1));
  store.apply("k", put(2, "back"));
  now = 10_000;
  assert.equal(store.purgeTombstones(1), 0);
  assert.equal(store.get("k")!.tombstone, false);
});

test("keyBytes counts UTF-8 bytes", () => {
  assert.equal(keyBytes("abc"), 3);
  assert.equal(keyBytes("é"), 2);
  assert.equal(keyBytes("€"), 3);
  assert.equal(keyBytes("𝄞"), 4);
});

test("the change count moves with every entry stored or removed, and with nothing else", () => {
  let now = 0;
  const store = new Store(() => now);
  const steps: Array<[string, () => unknown, number]> = [
    ["a new key stored", () => store.apply("k", put(10, "first")), 1],
    ["an older version refused", () => store.apply("k", put(5, "older")), 0],
    ["reads and walks", () => [store.get("k"), store.scan("", undefined, 10), [...store.slots()]], 0],
    ["a key overwritten", () => store.apply("k", put(11, "second")), 1],
    ["a tombstone stored", () => store.apply("gone", tomb(12)), 1],
    ["a drop of a version no longer held", () => store.dropIf("k", { wall: 10, logical: 0, node: "a" }), 0],
    ["a drop of the version held", () => store.dropIf("k", { wall: 11, logical: 0, node: "a" }), 1],
    ["a tombstone purged", () => ((now = 1_000), store.purgeTombstones(500)), 1],
    ["nothing left to purge", () => store.purgeTombstones(500), 0],
  ];
  for (const [name, step, moves] of steps) {
    const before = store.changes;
    step();
    assert.equal(store.changes - before, moves, name);
  }
});
