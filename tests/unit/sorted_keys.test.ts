import { test } from "node:test";
import assert from "node:assert/strict";
import { SortedKeys } from "../../lib/store/sorted_keys.ts";
import { seededRandom } from "../../lib/env.ts";

test("sorted keys agree with a sorted array through random adds and deletes, and scan by prefix after a key", () => {
  const random = seededRandom(9);
  const keys = new SortedKeys();
  const model = new Set<string>();
  for (let i = 0; i < 20_000; i++) {
    const key = `k${Math.floor(random.next() * 5_000).toString(36)}`;
    if (random.next() < 0.7) {
      keys.add(key);
      model.add(key);
    } else {
      keys.delete(key);
      model.delete(key);
    }
  }
  const sorted = [...model].sort();
  assert.equal(keys.size, model.size);
  assert.deepEqual([...keys.from("")], sorted);
  for (const [prefix, after] of [["k1", undefined], ["k1", "k1a"], ["k2", "k1zz"], ["k", "k3"], ["k9", "kz"], ["x", undefined]] as const) {
    assert.deepEqual([...keys.from(prefix, after)], sorted.filter((k) => k.startsWith(prefix) && (after === undefined || k > after)), `${prefix} after ${after}`);
  }
});
