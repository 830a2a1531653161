import { test } from "node:test";
import assert from "node:assert/strict";
import {
  compareVersions,
  formatVersion,
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
