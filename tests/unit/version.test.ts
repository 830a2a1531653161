import { test } from "node:test";
import assert from "node:assert/strict";
import {
  compareVersions,
  formatVersion,
  holds,
  isFresh,
  successor,
  Hlc,
  hlcObserve,
  hlcTick,
  isNewer,
  parseVersion,
  type Version,
} from "../../lib/store/version.ts";

const v = (wall: number, logical: number, node: string): Version => ({ wall, logical, node });

test("compareVersions orders by wall time, then logical counter, then node id", () => {
  const table: Array<[Version, Version, number]> = [
    [v(1, 0, "a"), v(2, 0, "a"), -1],
    [v(2, 0, "a"), v(1, 9, "z"), 1],
    [v(5, 1, "z"), v(5, 2, "a"), -1],
    [v(5, 2, "a"), v(5, 2, "b"), -1],
    [v(5, 2, "b"), v(5, 2, "a"), 1],
    [v(5, 2, "a"), v(5, 2, "a"), 0],
    [v(5, 2, "10.0.0.1:80"), v(5, 2, "10.0.0.1:8000"), -1],
  ];
  for (const [a, b, want] of table) {
    assert.equal(Math.sign(compareVersions(a, b)), want, `${formatVersion(a)} vs ${formatVersion(b)}`);
    assert.equal(Math.sign(compareVersions(b, a)), want === 0 ? 0 : -want, "antisymmetric");
  }
});

test("isNewer is strict, and anything is newer than nothing", () => {
  assert.equal(isNewer(v(1, 0, "a"), undefined), true);
  assert.equal(isNewer(v(1, 0, "a"), v(1, 0, "a")), false);
  assert.equal(isNewer(v(1, 1, "a"), v(1, 0, "a")), true);
});

test("hlcTick follows physical time forward and counts within a millisecond", () => {
  assert.deepEqual(hlcTick({ wall: 0, logical: 0 }, 100), { wall: 100, logical: 0 });
  assert.deepEqual(hlcTick({ wall: 100, logical: 0 }, 100), { wall: 100, logical: 1 });
  // The physical clock went backwards: the HLC stays put and counts.
  assert.deepEqual(hlcTick({ wall: 100, logical: 4 }, 90), { wall: 100, logical: 5 });
});

test("hlcObserve moves past a remote timestamp whichever clock is ahead", () => {
  const table: Array<[[number, number], [number, number], number, [number, number]]> = [
    // [local], [remote], now, expected
    [[100, 0], [50, 3], 200, [200, 0]], // physical time ahead of both
    [[100, 2], [50, 3], 90, [100, 3]], // local ahead
    [[100, 2], [150, 7], 90, [150, 8]], // remote ahead
    [[100, 2], [100, 7], 90, [100, 8]], // equal walls: max counter + 1
    [[100, 9], [100, 7], 100, [100, 10]],
  ];
  for (const [[lw, ll], [rw, rl], now, [ew, el]] of table) {
    assert.deepEqual(hlcObserve({ wall: lw, logical: ll }, { wall: rw, logical: rl }, now), { wall: ew, logical: el });
  }
});

test("an Hlc never issues a lower version, even when its clock jumps back", () => {
  let now = 1000;
  const hlc = new Hlc("n1", () => now);
  const issued: Version[] = [];
  for (const t of [1000, 1000, 1005, 990, 500, 1005, 2000, 1999]) {
    now = t;
    issued.push(hlc.next());
  }
  for (let i = 1; i < issued.length; i++) {
    assert.ok(compareVersions(issued[i - 1]!, issued[i]!) < 0, `${formatVersion(issued[i - 1]!)} < ${formatVersion(issued[i]!)}`);
  }
});

test("an Hlc issues above a version it observed from a node whose clock runs ahead", () => {
  const hlc = new Hlc("slow", () => 1000);
  const fromTheFuture = v(9_000_000, 4, "fast");
  const next = hlc.nextAbove(fromTheFuture);
  assert.ok(compareVersions(next, fromTheFuture) > 0);
  assert.equal(next.node, "slow");
});

test("formatVersion round-trips through parseVersion", () => {
  for (const version of [v(1732320000000, 3, "127.0.0.1:8000"), v(0, 0, "[::1]:9000")]) {
    assert.deepEqual(parseVersion(formatVersion(version)), version);
  }
  assert.equal(parseVersion("nonsense"), undefined);
  assert.equal(parseVersion("1.x@a"), undefined);
});

test("an Hlc issues whole milliseconds even from a clock with fractions", () => {
  const hlc = new Hlc("n", () => 1000.7);
  const v = hlc.next();
  assert.equal(v.wall, 1000);
  assert.ok(Number.isInteger(v.wall));
});

test("a conditional write's version comes right after the one it was conditioned on: no plain version fits between", () => {
  const ballot = (wall: number, node = "b:1", epoch = 3) => ({ epoch, wall, logical: 0, node });
  const base = v(100, 2, "a:1");
  const next = successor(base, ballot(500));
  assert.deepEqual(next, { wall: 100, logical: 2, node: "a:1", step: 1, ballot: ballot(500) });
  assert.ok(compareVersions(next, base) > 0);
  // Any plain version after the base is after its successor too; any before it, before.
  assert.ok(compareVersions(v(100, 3, "a:0"), next) > 0);
  assert.ok(compareVersions(v(100, 2, "b:0"), next) > 0);
  assert.ok(compareVersions(v(100, 2, "a:0"), base) < 0);
  // Siblings over one base order by ballot, and a later epoch's ballot outranks any earlier one.
  assert.ok(compareVersions(successor(base, ballot(400)), next) < 0);
  assert.ok(compareVersions(successor(base, ballot(1, "a:1", 4)), next) > 0);
  assert.ok(compareVersions(successor(next, ballot(1)), next) > 0);
  // Over an absent key: a fresh chain with no node.
  const fresh = successor(undefined, ballot(700));
  assert.ok(isFresh(fresh) && !isFresh(next) && !isFresh(base));
  for (const version of [next, fresh, successor(fresh, ballot(800))]) {
    assert.deepEqual(parseVersion(formatVersion(version)), version, formatVersion(version));
  }
});

test("holds: who counts as having stored a write it refused", () => {
  const ballot = { epoch: 1, wall: 900, logical: 0, node: "c:1" };
  const plain = v(100, 0, "a:1");
  const table: Array<[string, Version, Version, boolean]> = [
    ["the very version", plain, plain, true],
    ["an older one", v(99, 0, "a:1"), plain, false],
    ["a later plain write", v(101, 0, "a:1"), plain, true],
    ["a conditional write built on it", successor(plain, ballot), plain, true],
    ["a later chain of conditional writes", successor(v(101, 0, "b:1"), ballot), plain, true],
    ["a chain begun over an absent key, after it", successor(undefined, ballot), plain, false],
    ["a later write over a conditional one", v(200, 0, "a:1"), successor(plain, ballot), true],
  ];
  for (const [what, held, written, want] of table) assert.equal(holds(held, written), want, what);
});

test("parseVersion refuses what formatVersion never writes", () => {
  for (const text of ["", "1.2", "1.2@", "a.2@x:1", "1.2@x:1+", "1.2@x:1+0:1.2.3@y:1", "1.2@x:1+1:1.2@y:1", "1.2@+1:1.2.3@", "99999999999999999.0@x:1"]) {
    assert.equal(parseVersion(text), undefined, text);
  }
});
