import { test } from "node:test";
import assert from "node:assert/strict";
import { checkHistory, checkRegister, type Operation } from "../../lib/check/linearizability.ts";
import { seededRandom } from "../../lib/env.ts";

const put = (value: string, call: number, ret?: number, key = "k"): Operation => ({ kind: "put", key, value, call, ret });
const get = (value: string | null, call: number, ret?: number, key = "k"): Operation => ({ kind: "get", key, value, call, ret });
const del = (found: boolean, call: number, ret?: number, key = "k"): Operation => ({ kind: "delete", key, found, call, ret });

const linearizable = (h: Operation[]) => checkHistory(h).ok;

test("sequential histories: reads see the latest write", () => {
  assert.ok(linearizable([put("a", 0, 1), get("a", 2, 3), put("b", 4, 5), get("b", 6, 7)]));
  assert.ok(!linearizable([put("a", 0, 1), put("b", 2, 3), get("a", 4, 5)]), "a stale read");
  assert.ok(!linearizable([put("a", 0, 1), get(null, 2, 3)]), "a lost write");
  assert.ok(linearizable([get(null, 0, 1), put("a", 2, 3)]));
});

test("concurrent operations may take effect in either order", () => {
  // Two overlapping writes, then reads that agree on one winner.
  assert.ok(linearizable([put("a", 0, 10), put("b", 5, 15), get("a", 20, 21), get("a", 22, 23)]));
  assert.ok(linearizable([put("a", 0, 10), put("b", 5, 15), get("b", 20, 21)]));
  // A read overlapping a write may see either side of it.
  assert.ok(linearizable([put("a", 0, 1), put("b", 10, 20), get("a", 12, 13)]));
  assert.ok(linearizable([put("a", 0, 1), put("b", 10, 20), get("b", 12, 13)]));
});

test("a read never follows another read that saw something newer", () => {
  // While put(b) is in flight, one read sees b and a later read sees a: not linearizable.
  assert.ok(!linearizable([put("a", 0, 1), put("b", 10, 100), get("b", 20, 30), get("a", 40, 50)]));
  // The same reads in the other order are fine.
  assert.ok(linearizable([put("a", 0, 1), put("b", 10, 100), get("a", 20, 30), get("b", 40, 50)]));
  // Two readers disagreeing about who won two completed writes cannot both be right.
  assert.ok(!linearizable([put("a", 0, 10), put("b", 0, 10), get("a", 20, 21), get("b", 22, 23), get("a", 24, 25)]));
});

test("an operation with an unknown outcome may have happened, at any time after its call, or never", () => {
  assert.ok(linearizable([put("a", 0, 1), put("x", 2), get("x", 50, 60)]), "a timed-out write became visible");
  assert.ok(linearizable([put("a", 0, 1), put("x", 2), get("a", 50, 60)]), "or not");
  assert.ok(linearizable([put("a", 0, 1), put("x", 2), get("a", 50, 60), get("x", 70, 80)]), "or later");
  assert.ok(!linearizable([put("a", 0, 1), put("x", 2), get("x", 50, 60), get("a", 70, 80)]), "but not undone");
  assert.ok(!linearizable([put("a", 0, 1), put("x", 100), get("x", 50, 60)]), "nor before it was called");
  assert.ok(linearizable([put("a", 0, 1), get("zzz", 2), get("a", 3, 4)]), "a failed read tells nothing");
});

test("deletes: found only when a value was there, and absence after", () => {
  assert.ok(linearizable([put("a", 0, 1), del(true, 2, 3), get(null, 4, 5), del(false, 6, 7)]));
  assert.ok(!linearizable([del(true, 0, 1)]), "found with nothing there");
  assert.ok(!linearizable([put("a", 0, 1), del(false, 2, 3)]), "not found with a value there");
  assert.ok(!linearizable([put("a", 0, 1), del(true, 2, 3), get("a", 4, 5)]), "a deleted value came back");
  assert.ok(linearizable([put("a", 0, 1), del(true, 2), get(null, 10, 11)]), "a delete of unknown outcome");
  assert.ok(!linearizable([put("a", 0, 1), del(true, 2, 3), del(true, 4, 5)]), "found twice, one after the other");
});

test("a DELETE is a read then a tombstone write: two overlapping ones may both find the value", () => {
  // Both read the value before either tombstone landed (no consensus, no test-and-set).
  assert.ok(linearizable([put("a", 0, 1), del(true, 10, 20), del(true, 12, 22), get(null, 30, 31)]));
  // But neither may find a value that was already gone when it started.
  assert.ok(!linearizable([put("a", 0, 1), del(true, 10, 20), del(true, 25, 30)]));
  // And the tombstone lands within the call: a read after it sees absence.
  assert.ok(!linearizable([put("a", 0, 1), del(true, 10, 20), get("a", 25, 26)]));
});

test("keys are checked independently, and a failure names its key", () => {
  const h = [put("a", 0, 1, "x"), get("a", 2, 3, "x"), put("a", 0, 1, "y"), get(null, 2, 3, "y")];
  const result = checkHistory(h);
  assert.equal(result.ok, false);
  assert.equal(result.key, "y");
  assert.equal(result.keys, 2);
});

test("a larger concurrent history: 60 operations across 12 rounds of overlapping writes", () => {
  // 5 clients, 12 rounds each, overlapping writes and reads of one key, all linearizable
  // by construction: each round's writes overlap, and reads come after the round with the
  // value of the write placed last (the one called last).
  const h: Operation[] = [];
  let t = 0;
  for (let round = 0; round < 12; round++) {
    for (let c = 0; c < 5; c++) h.push(put(`r${round}c${c}`, t + c, t + 10 + c));
    h.push(get(`r${round}c4`, t + 20, t + 21));
    t += 30;
  }
  assert.ok(checkHistory(h).ok);
  h.push(get("r0c0", t + 1, t + 2));
  assert.ok(!checkHistory(h).ok);
});

const cas = (expect: string | null | "*", value: string | null, won: boolean | undefined, call: number, ret?: number): Operation => ({ kind: "cas", key: "k", expect, value, won, call, ret });

test("compare-and-set: of two racing on one value exactly one may win", () => {
  assert.ok(linearizable([put("a", 0, 1), cas("a", "b", true, 2, 10), cas("a", "c", false, 3, 11), get("b", 12, 13)]));
  assert.ok(!linearizable([put("a", 0, 1), cas("a", "b", true, 2, 10), cas("a", "c", true, 3, 11)]), "two winners over one value");
  assert.ok(!linearizable([put("a", 0, 1), cas("a", "b", false, 2, 10), get("a", 11, 12)]), "a 412 while the value it named was there all along");
  // Create-only and conditional delete.
  assert.ok(linearizable([cas(null, "a", true, 0, 1), cas(null, "b", false, 2, 3), cas("a", null, true, 4, 5), cas(null, "c", true, 6, 7)]));
  assert.ok(!linearizable([cas(null, "a", true, 0, 1), cas(null, "b", true, 2, 3)]), "create-only twice in a row");
  assert.ok(linearizable([put("a", 0, 1), cas("*", "b", true, 2, 3), cas("*", "c", false, 4, 5)].slice(0, 2)));
  assert.ok(!linearizable([cas("*", "b", true, 0, 1)]), "If-Match: * on an absent key");
});

test("compare-and-set with an unknown outcome may take effect, but only where its condition held", () => {
  assert.ok(linearizable([put("a", 0, 1), cas("a", "b", undefined, 2), get("b", 10, 11)]));
  assert.ok(linearizable([put("a", 0, 1), cas("a", "b", undefined, 2), get("a", 10, 11)]));
  assert.ok(!linearizable([put("a", 0, 1), put("z", 2, 3), cas("a", "b", undefined, 4), get("b", 10, 11)]), "its condition no longer held");
});

const ttlPut = (value: string, call: number, ret: number | undefined, from: number, to: number): Operation => ({ kind: "put", key: "k", value, call, ret, expires: { from, to } });

test("expiry: a value with a ttl becomes absent once, within its window, unless overwritten first", () => {
  assert.ok(linearizable([ttlPut("a", 0, 1, 10, 12), get("a", 5, 6), get(null, 13, 14)]));
  assert.ok(!linearizable([ttlPut("a", 0, 1, 10, 12), get(null, 5, 6)]), "gone before its window");
  assert.ok(!linearizable([ttlPut("a", 0, 1, 10, 12), get("a", 13, 14)]), "still served after its window");
  assert.ok(!linearizable([ttlPut("a", 0, 1, 10, 12), get(null, 10, 11), get("a", 11.5, 11.8)]), "expired, then back");
  assert.ok(linearizable([ttlPut("a", 0, 1, 10, 12), put("b", 3, 4), get("b", 20, 21)]), "an overwrite is not expired by the old value's ttl");
  assert.ok(linearizable([ttlPut("a", 0, 1, 10, 12), cas(null, "c", true, 13, 14)]), "create-only over an expired value");
  assert.ok(!linearizable([ttlPut("a", 0, 1, 10, 12), cas(null, "c", true, 5, 6)]), "create-only over a live one");
  assert.ok(linearizable([ttlPut("a", 0, undefined, 10, 12), get(null, 20, 21)]), "an unknown write may never have happened");
});

test("writes of unknown outcome nothing tells apart are tried by count, not by subset: the same verdicts, and fast", () => {
  const random = seededRandom(11);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random.next() * xs.length)]!;
  let linearizable = 0;
  for (let h = 0; h < 400; h++) {
    const ops: Operation[] = [];
    const values = ["a", "b", "c", "d", "e", "f"];
    for (let i = 0; i < 9; i++) {
      const call = Math.floor(random.next() * 20);
      const ret = random.next() < 0.35 ? undefined : call + 1 + Math.floor(random.next() * 6);
      const kind = pick(["put", "put", "get", "delete", "cas"] as const);
      if (kind === "put") ops.push({ kind, key: "k", value: `${pick(values)}${i}`, call, ret });
      else if (kind === "get") ops.push({ kind, key: "k", value: pick([null, ...ops.filter((o) => o.kind === "put").map((o) => (o as { value: string }).value)]), call, ret });
      else if (kind === "delete") ops.push({ kind, key: "k", found: random.next() < 0.5, call, ret });
      else ops.push({ kind, key: "k", expect: pick<string | null>([null, "*", ...ops.filter((o) => o.kind === "put").map((o) => (o as { value: string }).value)]), value: `c${i}`, won: random.next() < 0.5, call, ret });
    }
    const verdict = checkRegister(ops);
    assert.equal(verdict, checkRegister(ops, null, { grouped: false }), `history ${h}: ${JSON.stringify(ops)}`);
    if (verdict) linearizable++;
  }
  assert.ok(linearizable > 40 && linearizable < 360, `both verdicts among the histories: ${linearizable} of 400 linearizable`);
  // 40 writes that timed out, whose values nobody read, beside a read that cannot be linearized:
  // one way to place them per count, not 2^40 subsets.
  const timedOut: Operation[] = Array.from({ length: 40 }, (_, i) => ({ kind: "put", key: "k", value: `lost${i}`, call: i }));
  const impossible: Operation[] = [{ kind: "put", key: "k", value: "x", call: 0, ret: 1 }, { kind: "get", key: "k", value: "never-written", call: 2, ret: 3 }];
  assert.equal(checkRegister([...timedOut, ...impossible]), false);
});
