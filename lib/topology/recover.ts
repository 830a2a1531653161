/**
 * An operator's way out of a lost quorum (`mod.ts recover`): ranges that lost a quorum of
 * their owners are given to the owners that survive, in one agreed epoch, after saying
 * exactly which acknowledged writes that may lose. Nothing here runs by itself.
 *
 * What survives is bounded by anti-entropy (sync/tokens.ts): each survivor knows, per lost
 * owner, a time before which everything that owner held reached it. A write acknowledged
 * is on W owners of its range's read set (the set reads go to holds every acknowledged
 * write on W of its members, streamed there before reads moved to it), and is kept if any
 * survivor holds it: surely when fewer than W of the set are lost, else when it was
 * acknowledged before the W-th earliest of the lost owners' best times (the worst case puts
 * it on the W lost owners synced longest ago).
 */
import { isMoving, pinName, readSet } from "./pins.ts";
import { MAX_RECOVERIES, memberKey, type MemberRef, type Pin, ringMembers, type TopologyState, withRemoved } from "./state.ts";

/** What a recovery keeps of a range: every acknowledged write, or those acknowledged before `before` (ms), or no promise. */
export type Kept = { all: true } | { all: false; before: number | undefined };

/**
 * The bound for one pinned range. `synced`: per surviving owner (id), per lost owner (id),
 * the time before which everything the lost one held reached the survivor.
 */
export function keptBound(pin: Pin, lost: ReadonlySet<string>, synced: ReadonlyMap<string, ReadonlyMap<string, number>>, writeQuorum: number): Kept {
  const best = (deadId: string): number => {
    let t = -Infinity;
    for (const times of synced.values()) t = Math.max(t, times.get(deadId) ?? -Infinity);
    return t;
  };
  const reads = readSet(pin);
  const w = Math.min(writeQuorum, reads.length);
  const gone = reads.filter((m) => lost.has(m.id)).map((m) => best(m.id)).sort((a, b) => a - b);
  if (gone.length < w) return { all: true };
  const bound = gone[w - 1]!;
  return { all: false, before: bound === -Infinity ? undefined : bound };
}

/** The words `recover` says before it acts (and records), for one range. */
export function keptText(kept: Kept): string {
  if (kept.all) return "every acknowledged write is kept (each reached a surviving owner)";
  if (kept.before === undefined) return "any acknowledged write may be missing: no anti-entropy round with the lost owners completed on record";
  return `every write acknowledged before ${new Date(kept.before).toISOString()} (by the survivors' clocks) is kept; writes acknowledged after it may be missing`;
}

export interface RecoveryRecord {
  at: number;
  by: string;
  /** Per range name, what it was said to keep before acting. */
  kept: ReadonlyMap<string, Kept>;
}

/**
 * The value after `state` in which each named pinned range keeps only its owners that are
 * still members of the ring; a range none of whose owners survives goes to the ring's
 * owners (its keys are lost). The recovery is recorded in the value. Ranges not pinned, or
 * not named, are unchanged.
 */
export function recoveredValue(state: TopologyState, ranges: ReadonlySet<string>, record: RecoveryRecord): TopologyState {
  const live = new Set(ringMembers(state).map(memberKey));
  const alive = (refs: readonly MemberRef[]) => refs.filter((m) => live.has(memberKey(m)));
  const epoch = state.epoch + 1;
  const pins: Pin[] = [];
  const lostKeys = new Set<string>();
  const done: string[] = [];
  for (const pin of state.pins) {
    const name = pinName(pin);
    if (!ranges.has(name)) {
      pins.push(pin);
      continue;
    }
    done.push(name);
    for (const m of [...pin.members, ...pin.next]) if (!live.has(memberKey(m))) lostKeys.add(memberKey(m));
    let members = alive(pin.members);
    let next = alive(pin.next);
    if (members.length === 0 && next.length === 0) continue; // nothing survives: the ring's owners take the range, empty
    if (members.length === 0) members = next;
    if (next.length === 0) next = members;
    const moving = isMoving({ members, next, readNew: false });
    pins.push({ ...pin, members, next, readNew: moving && pin.readNew, since: epoch, at: record.at });
  }
  const recovery = { epoch, at: record.at, by: record.by, ranges: done, lost: [...lostKeys].sort(), kept: summarise(done, record.kept) };
  const recoveries = [...state.recoveries, recovery].slice(-MAX_RECOVERIES);
  return withRemoved(state, { ...state, epoch, pins, recoveries });
}

/** One line for the record: the weakest thing said of any of the ranges (each range's own words are in the listing). */
function summarise(ranges: readonly string[], kept: ReadonlyMap<string, Kept>): string {
  const all = ranges.map((r) => kept.get(r) ?? { all: false, before: undefined });
  const weakest = all.reduce<Kept>((w, k) => (weaker(k, w) ? k : w), { all: true });
  return `${ranges.length} range${ranges.length === 1 ? "" : "s"}; at worst: ${keptText(weakest)}`;
}

/** Whether `a` promises less than `b`. */
function weaker(a: Kept, b: Kept): boolean {
  if (b.all) return !a.all;
  if (a.all) return false;
  if (b.before === undefined) return false;
  return a.before === undefined || a.before < b.before;
}
