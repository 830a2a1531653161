/**
 * The store's layout (slabs, slot columns, the open-addressing index, the ordered chunks)
 * against a plain Map model, through random writes, rewrites, deletes and purges: what it
 * answers must be what a Map of entries would.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { type Entry, Store } from "../../lib/store/store.ts";
import { compareKeyBytes, utf8 } from "../../lib/store/key_bytes.ts";
import { SLAB_BYTES } from "../../lib/store/slabs.ts";
import { ringPosition, ringPositionOfBytes } from "../../lib/ring/hash.ts";
import { seededRandom } from "../../lib/env.ts";

const jsOrder = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const sign = (n: number) => Math.sign(n);

test("UTF-8 keys compare as their strings do in JavaScript, astral and U+E000..U+FFFF included", () => {
  const char = fc.constantFrom("a", "z", "é", "\u07ff", "\u0800", "\ud7ff", "\ue000", "\uffff", "𝄞", "\u{10ffff}", "~", "");
  const key = fc.array(char, { maxLength: 6 }).map((cs) => cs.join(""));
  fc.assert(
    fc.property(key, key, (a, b) => {
      const x = utf8(a);
      const y = utf8(b);
      assert.equal(sign(compareKeyBytes(x, 0, x.length, y, 0, y.length)), jsOrder(a, b), `${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
    }),
    { numRuns: 2_000 },
  );
});

function entry(wall: number, value: Uint8Array, tombstone = false): Entry {
  return { value, contentType: tombstone ? "" : `type/${wall % 3}`, version: { wall, logical: 0, node: `n${wall % 4}` }, tombstone };
}

test("the store answers as a Map would through writes, rewrites, drops and purges, across compactions", () => {
  const random = seededRandom(23);
  let now = 0;
  const store = new Store(() => now);
  const model = new Map<string, Entry>();
  const names = ["a", "é", "𝄞", "\ue000", "key:", "z"];
  let wall = 1;
  for (let i = 0; i < 60_000; i++) {
    now++;
    const key = `${names[Math.floor(random.next() * names.length)]}${Math.floor(random.next() * 2_000)}`;
    const roll = random.next();
    if (roll < 0.75) {
      // Values up to a few KiB, and now and then one big enough for a slab of its own.
      const size = random.next() < 0.002 ? SLAB_BYTES / 8 : Math.floor(random.next() * 3_000);
      const e = entry(wall++, new Uint8Array(size).fill(i & 0xff), random.next() < 0.1);
      store.apply(key, e);
      model.set(key, e);
    } else if (roll < 0.95) {
      const held = model.get(key);
      if (held) assert.equal(store.dropIf(key, held.version), true);
      model.delete(key);
    } else {
      const stale = model.get(key);
      if (stale) assert.equal(store.apply(key, entry(stale.version.wall - 1, new Uint8Array(1))).applied, false);
    }
  }
  assert.equal(store.size, model.size);
  for (const [key, e] of model) assert.deepEqual(store.get(key), e, key);
  const walked = new Map(store.entries());
  assert.deepEqual(walked, model);
  // The walk by slot, as a stabilisation scan reads it: each key placed from its bytes where they lie.
  const bySlot = new Map<string, Entry>();
  for (const slot of store.slots()) {
    const key = store.keyAt(slot);
    assert.equal(store.readKey(slot, ringPositionOfBytes), ringPosition(key), key);
    assert.deepEqual(store.versionAt(slot), model.get(key)?.version, key);
    bySlot.set(key, store.entryAt(slot));
  }
  assert.deepEqual(bySlot, model);
  const sorted = [...model.keys()].sort(jsOrder);
  assert.deepEqual(store.scan("", undefined, 1e9).map(([k]) => k), sorted);
  for (const [prefix, after] of [["é1", undefined], ["é", "é5"], ["𝄞", "é"], ["\ue000", "𝄞9"], ["key:1", "key:10"], ["x", undefined]] as const) {
    const want = sorted.filter((k) => k.startsWith(prefix) && (after === undefined || k > after)).slice(0, 50);
    assert.deepEqual(store.scan(prefix, after, 50).map(([k]) => k), want, `${prefix} after ${after}`);
  }
  const tombstones = [...model.values()].filter((e) => e.tombstone).length;
  assert.equal(store.stats().tombstones, tombstones);
  assert.equal(store.stats().liveKeys, model.size - tombstones);
  now += 1_000_000;
  assert.equal(store.purgeTombstones(0), tombstones);
  assert.equal(store.size, model.size - tombstones);
});

test("a value read once stays as it was, though its key is rewritten and its slab compacted", () => {
  const store = new Store(() => 0);
  store.apply("held", entry(1, new Uint8Array(100).fill(7)));
  const held = store.get("held")!.value;
  // Enough rewrites of other keys and of this one to fill, kill and compact many slabs.
  for (let i = 0; i < 40_000; i++) store.apply(`k${i % 100}`, entry(2 + i, new Uint8Array(200).fill(i & 0xff)));
  store.apply("held", entry(50_000, new Uint8Array(100).fill(9)));
  for (let i = 0; i < 40_000; i++) store.apply(`k${i % 100}`, entry(60_000 + i, new Uint8Array(200).fill(1)));
  assert.deepEqual(held, new Uint8Array(100).fill(7));
  assert.deepEqual(store.get("held")!.value, new Uint8Array(100).fill(9));
  assert.deepEqual(store.get("k5")!.value, new Uint8Array(200).fill(1));
  // 80,000 records of 200 bytes would fill 16 slabs; 101 live ones fit in one. Compaction
  // leaves the slab being filled and at most one other behind.
  assert.ok(store.slabs().slabs <= 2, `${store.slabs().slabs} slabs`);
});

test("conditional versions and expiries come back as written", () => {
  const store = new Store(() => 0);
  const chained: Entry = {
    value: utf8("v"),
    contentType: "text/plain",
    version: { wall: 5, logical: 1, node: "", step: 2, ballot: { epoch: 3, wall: 6, logical: 0, node: "n1" } },
    tombstone: false,
    expires: 99,
  };
  store.apply("k", chained);
  assert.deepEqual(store.get("k"), chained);
  const plain = entry(10, utf8("w"));
  store.apply("k", plain);
  assert.deepEqual(store.get("k"), plain, "the rewrite leaves no step, ballot or expiry behind");
});
