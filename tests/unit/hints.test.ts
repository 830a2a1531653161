import { test } from "node:test";
import assert from "node:assert/strict";
import { HintStore } from "../../lib/replication/hints.ts";
import type { Entry } from "../../lib/store/store.ts";

const entry = (wall: number, bytes = 10): Entry => ({
  value: new Uint8Array(bytes),
  contentType: "",
  version: { wall, logical: 0, node: "c" },
  tombstone: false,
});

test("one hint per replica and key: the newest version wins", () => {
  const h = new HintStore();
  h.add("r1", "k", entry(5));
  h.add("r1", "k", entry(3));
  h.add("r1", "k", entry(7));
  h.add("r2", "k", entry(1));
  assert.equal(h.size, 2);
  assert.deepEqual(h.peers().sort(), ["r1", "r2"]);
  const taken = h.take("r1");
  assert.deepEqual(taken.map((x) => x.entry.version.wall), [7]);
  assert.equal(h.size, 1);
  assert.deepEqual(h.take("r1"), []);
});

test("hints are bounded in count and bytes; the oldest go first, and are counted", () => {
  const byCount = new HintStore(3);
  for (let i = 0; i < 5; i++) byCount.add("r", `k${i}`, entry(i));
  assert.equal(byCount.size, 3);
  assert.equal(byCount.dropped, 2);
  assert.deepEqual(byCount.take("r").map((x) => x.key), ["k2", "k3", "k4"]);

  const byBytes = new HintStore(1000, 3 * (2 + 100 + 64));
  for (let i = 0; i < 4; i++) byBytes.add("r", `k${i}`, entry(i, 100));
  assert.equal(byBytes.size, 3);
  assert.ok(byBytes.bytes <= 3 * 166);
  assert.equal(byBytes.take("r")[0]!.key, "k1");
  assert.equal(byBytes.bytes, 0);
});
