/**
 * Pinned ranges: ranges of the ring held by explicit owners instead of the members' ring.
 * A range whose owners cannot all be fenced or streamed (two of three lost at once) keeps
 * the owners it had while everything else moves; once it can move, it steps toward the
 * members' ring one phase per epoch, like any range (range_steps.ts), and the pin goes
 * when the range is where the ring would put it. Pure functions over plain data.
 */
import { positionHex } from "../ring/hash.ts";
import type { MemberRef, Pin } from "./state.ts";

/** The last position of the ring (positions are unsigned 64-bit). */
export const MAX_POSITION = (1n << 64n) - 1n;

/** Who holds a range in one epoch: old owners, new owners (the same when it is not moving), and where reads go. */
export interface RangeOwners {
  members: readonly MemberRef[];
  next: readonly MemberRef[];
  readNew: boolean;
}

/** The pin holding `position`, if any. `pins` are sorted by `lo` and disjoint. */
export function pinAt(pins: readonly Pin[], position: bigint): Pin | undefined {
  let lo = 0;
  let hi = pins.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const p = pins[mid]!;
    if (position < p.lo) hi = mid - 1;
    else if (position > p.hi) lo = mid + 1;
    else return p;
  }
  return undefined;
}

/** Whether two owner sets name the same processes. Loops, not closures: the planner asks this for every range of the ring. */
export function sameRefSet(a: readonly MemberRef[], b: readonly MemberRef[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  outer: for (const m of a) {
    for (const n of b) if (m.id === n.id && m.nonce === n.nonce) continue outer;
    return false;
  }
  return true;
}

/** Whether the range moves (its old and new owners differ). */
export const isMoving = (o: RangeOwners): boolean => !sameRefSet(o.members, o.next);

/** The owners a range's reads ask: the new ones once reads moved, else the old. */
export const readSet = (o: RangeOwners): readonly MemberRef[] => (isMoving(o) && o.readNew ? o.next : o.members);

/** The sets a range's writes need W of: old and new while it moves. */
export const writeSets = (o: RangeOwners): ReadonlyArray<readonly MemberRef[]> => (isMoving(o) ? [o.members, o.next] : [o.members]);

/** The same owners in the same roles (order within a set does not matter; nor does readNew for a range that is not moving). */
export function sameOwners(a: RangeOwners, b: RangeOwners): boolean {
  if (!sameRefSet(a.members, b.members) || !sameRefSet(a.next, b.next)) return false;
  return !isMoving(a) || a.readNew === b.readNew;
}

/** A range laid out for pinning: positions lo..hi with these owners. */
export interface PinnedRun {
  lo: bigint;
  hi: bigint;
  owners: RangeOwners;
  since: number;
  at: number;
}

/** Pins from runs of consecutive ranges, merging neighbours with the same owners (and the same `since`). */
export function pinsFrom(runs: readonly PinnedRun[]): Pin[] {
  const sorted = [...runs].sort((a, b) => (a.lo < b.lo ? -1 : a.lo > b.lo ? 1 : 0));
  const pins: Pin[] = [];
  for (const r of sorted) {
    const last = pins[pins.length - 1];
    if (last && last.hi + 1n === r.lo && last.since === r.since && sameOwners(last, r.owners)) {
      last.hi = r.hi;
      continue;
    }
    const moving = isMoving(r.owners);
    pins.push({ lo: r.lo, hi: r.hi, members: [...r.owners.members], next: [...r.owners.next], readNew: moving && r.owners.readNew, since: r.since, at: r.at });
  }
  return pins;
}

/** A pin's name for operators: its first and last positions in hex. */
export const pinName = (p: Pick<Pin, "lo" | "hi">): string => `${positionHex(p.lo)}-${positionHex(p.hi)}`;

/** Whether `text` has the shape of a pin's name (16 hex digits, a dash, 16 hex digits). */
export const isPinName = (text: string): boolean => /^[0-9a-f]{16}-[0-9a-f]{16}$/.test(text);
