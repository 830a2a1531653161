/**
 * What the driver proposes next, as a pure function of the decided epoch and what the
 * driver has heard. The ring as a whole moves through ScyllaDB's states, one epoch each:
 *
 * - stable → write_both_read_old: owners to add (joiners), remove (dead past the removal
 *   delay, replaced by a restarted process) or let go (leaving).
 * - write_both_read_old → write_both_read_old: a new owner died, is leaving or stays
 *   silent; the new set drops it and streaming starts over.
 * - write_both_read_old → write_both_read_new, then → stable.
 * - stable → stable: pinned ranges take their next step toward the members' ring.
 *
 * Each such value is judged range by range (range_steps.ts): a range whose step may be
 * taken takes it; one that must wait for a member that can still answer holds the whole
 * step back (briefly: a silent member counts as gone after the driver's patience); one
 * that can never take it (too few of its owners can answer) is pinned where it is, and the
 * rest move without it. So a lost quorum stops only its own range.
 */
import { MAX_POSITION, type PinnedRun, pinsFrom, type RangeOwners, sameOwners } from "./pins.ts";
import { Layout } from "./placement.ts";
import { fenceVerdict, judge, memoKeys, type QuorumConfig, stepToward, type Verdict } from "./range_steps.ts";
import {
  beginTransition,
  finishTransition,
  MAX_PINS,
  memberKey,
  type MemberRef,
  readFromNew,
  sameRefs,
  sortRefs,
  supersededKeys,
  type TopologyState,
  withRemoved,
} from "./state.ts";

export type { QuorumConfig } from "./range_steps.ts";

export interface DriverView {
  /** Member keys to take off the ring: dead past the removal delay, left, or replaced by a restarted process. */
  removable: ReadonlySet<string>;
  /** Member keys that cannot answer: the removable, and members silent past the driver's patience. */
  gone: ReadonlySet<string>;
  /** Member ids that said they are leaving. */
  leaving: ReadonlySet<string>;
  /** Processes alive and asking to be members (never one in `removed`). */
  joiners: readonly MemberRef[];
  /** Member keys that acknowledged the current epoch. */
  fenced: ReadonlySet<string>;
  /** Member keys that finished streaming in the current epoch, each with the new owners (ids) it could not reach. */
  streamed: ReadonlyMap<string, ReadonlySet<string>>;
  /** Wall-clock ms, stamped on ranges pinned now. */
  now: number;
}

export interface PlanOptions {
  /**
   * The fence before ranges: every range's owners must be fenced for any step, and no range
   * is ever pinned (one lost quorum then holds the whole ring). Only for tests that show
   * what per-range steps prevent.
   */
  everyRange?: boolean;
}

export type Step =
  /** `waitingFor`: the member keys whose acknowledgement or streaming the step waits for, if any. */
  | { kind: "wait"; reason: string; waitingFor?: readonly string[] }
  | { kind: "propose"; value: TopologyState; why: string };

/** A value the ring could move to, before its ranges are judged: its global part, and where each range goes. */
interface Candidate {
  value: TopologyState;
  why: string;
  /** Where the range holding `position` (with owners `from` now) goes in this value; `pinned`: it is a pinned range. */
  target(position: bigint, from: RangeOwners, pinned: boolean, derived: RangeOwners): RangeOwners;
}

export function nextStep(layout: Layout, view: DriverView, quorum: QuorumConfig, options: PlanOptions = {}): Step {
  const state = layout.state;
  if (state.epoch === 0) return { kind: "wait", reason: "no ring" };
  const reasons: string[] = [];
  for (const candidate of candidates(layout, view)) {
    const result = settle(layout, candidate, view, quorum, options);
    if (result.kind === "propose" || result.kind === "wait") return result;
    reasons.push(result.reason);
  }
  return { kind: "wait", reason: reasons.length > 0 ? reasons.join("; ") : "nothing to change" };
}

/** The values worth judging now, most wanted first. */
function candidates(layout: Layout, view: DriverView): Candidate[] {
  const state = layout.state;
  const gone = (m: MemberRef) => view.removable.has(memberKey(m)) || view.leaving.has(m.id);
  const frozen = (_: bigint, from: RangeOwners, pinned: boolean, derived: RangeOwners) => (pinned ? from : derived);
  if (state.phase === "stable") {
    const out: Candidate[] = [];
    const removed = new Set(state.removed);
    const isMember = (j: MemberRef) => state.members.some((m) => memberKey(m) === memberKey(j));
    const keep = state.members.filter((m) => !gone(m));
    const add = view.joiners.filter((j) => !removed.has(memberKey(j)) && !isMember(j) && !view.leaving.has(j.id));
    const desired = sortRefs([...keep, ...add]);
    if (desired.length > 0 && !sameRefs(desired, state.members)) {
      out.push({ value: beginTransition(state, desired), why: describe(state.members, desired), target: frozen });
    }
    if (state.pins.length > 0) {
      // Pinned ranges step toward where the members' ring puts them.
      const toward = (_: bigint, from: RangeOwners, pinned: boolean, derived: RangeOwners) => (pinned ? stepToward(from, derived.members) : from);
      out.push({ value: { ...state, epoch: state.epoch + 1 }, why: "pinned ranges move on", target: toward });
    }
    return out;
  }
  if (state.phase === "write_both_read_old") {
    const survivors = state.next.filter((m) => !gone(m) && !view.gone.has(memberKey(m)));
    if (survivors.length > 0 && survivors.length < state.next.length) {
      return [{ value: beginTransition(state, survivors), why: `retarget: ${describe(state.next, survivors)}`, target: frozen }];
    }
    return [{ value: readFromNew(state), why: "new owners hold every moved range", target: frozen }];
  }
  return [{ value: finishTransition(state), why: "transition complete", target: frozen }];
}

type Settled = Step | { kind: "nothing"; reason: string };

/**
 * Judges every range's step into `candidate`: proposes the value with stuck ranges pinned,
 * or waits for members that can still answer, or says nothing would change.
 */
function settle(layout: Layout, candidate: Candidate, view: DriverView, quorum: QuorumConfig, options: PlanOptions): Settled {
  const state = layout.state;
  const ghosts = supersededKeys(state);
  const conditions = {
    gone: new Set([...view.gone, ...ghosts]),
    fenced: view.fenced,
    quorum,
    streamedTo: (key: string, to: readonly MemberRef[]) => {
      const unreached = view.streamed.get(key);
      return unreached !== undefined && to.every((m) => !unreached.has(m.id));
    },
    keyOf: memoKeys(),
  };
  const after = new Layout({ ...candidate.value, pins: [] }, layout.vnodes, layout.replicas);
  const ends = rangeEnds(layout, after);
  const runs: PinnedRun[] = [];
  const stuckRuns: PinnedRun[] = [];
  const waits = new Waits();
  const lost = new Set<string>();
  let moved = false;
  let lo = 0n;
  for (const end of ends) {
    const pin = layout.pinAt(end);
    const from = layout.rangeAt(end);
    const derived = after.rangeAt(end);
    let to = candidate.target(end, from, pin !== undefined, derived);
    const verdict = judge(from, to, conditions);
    if (options.everyRange) {
      const fence = fenceVerdict(from, conditions);
      if (verdict.kind === "stuck" || fence.kind === "stuck") return { kind: "wait", reason: `every range fenced first: ${describeVerdict(fence.kind === "ok" ? verdict : fence)}` };
      if (fence.kind === "wait") waits.add(fence);
    }
    if (verdict.kind === "wait") waits.add(verdict);
    if (verdict.kind === "stuck") {
      to = from;
      stuckRuns.push({ lo, hi: end, owners: from, since: 0, at: 0 });
      for (const k of verdict.lost) lost.add(k);
    }
    if (!sameOwners(from, to)) moved = true;
    if (!sameOwners(to, derived)) runs.push({ lo, hi: end, owners: to, since: pin?.since ?? candidate.value.epoch, at: pin?.at ?? view.now });
    lo = end + 1n;
  }
  if (waits.ranges > 0) return { kind: "wait", reason: `${options.everyRange ? "every range fenced first: " : ""}${waits.describe()}`, waitingFor: waits.members() };
  const pins = pinsFrom(runs);
  const stuck = pinsFrom(stuckRuns).length;
  const stuckNote = stuck > 0 ? `${stuck} ranges cannot move: too few of their owners answer (${few(lost)})` : "";
  if (pins.length > MAX_PINS) return { kind: "wait", reason: `the step would pin ${pins.length} ranges, more than ${MAX_PINS}` };
  // Who is removed follows from who is still named, pins included (a member may leave the ring and stay a pin's owner).
  const value = withRemoved(state, { ...candidate.value, removed: state.removed, pins });
  const globalChange = value.phase !== state.phase || !sameRefs(value.members, state.members) || !sameRefs(value.next, state.next);
  if (!moved && !globalChange) return { kind: "nothing", reason: stuckNote || "nothing to change" };
  return { kind: "propose", value, why: [candidate.why, stuckNote].filter(Boolean).join("; ") };
}

/**
 * Every position that ends a range of constant owners in either value, and the ring's last
 * position, in order: sorted as unsigned 64-bit numbers, without a comparator called for
 * each of the ring's hundreds of thousands of positions.
 */
function rangeEnds(before: Layout, after: Layout): BigUint64Array {
  const all = BigUint64Array.from([...before.arcEnds(), ...after.arcEnds(), MAX_POSITION]).sort();
  let kept = 0;
  for (let i = 0; i < all.length; i++) if (i === 0 || all[i] !== all[kept - 1]) all[kept++] = all[i]!;
  return all.subarray(0, kept);
}

/** The ranges that wait, counted, and whom they wait for. */
class Waits {
  ranges = 0;
  readonly #fence = new Set<string>();
  readonly #streaming = new Set<string>();

  add(w: Extract<Verdict, { kind: "wait" }>): void {
    this.ranges++;
    const into = w.why === "fence" ? this.#fence : this.#streaming;
    for (const k of w.waitingFor) into.add(k);
  }

  members(): string[] {
    return [...new Set([...this.#fence, ...this.#streaming])];
  }

  describe(): string {
    const parts: string[] = [];
    if (this.#fence.size > 0) parts.push(`waiting for ${few(this.#fence)} to acknowledge the current epoch`);
    if (this.#streaming.size > 0) parts.push(`waiting for ${few(this.#streaming)} to finish streaming moving ranges`);
    return `${parts.join("; ")} (${this.ranges} ranges)`;
  }
}

/** Up to five names, then how many more. */
function few(names: Iterable<string>): string {
  const all = [...names];
  return all.length <= 5 ? all.join(", ") : `${all.slice(0, 5).join(", ")} and ${all.length - 5} more`;
}

function describeVerdict(v: Verdict): string {
  if (v.kind === "wait") {
    const waits = new Waits();
    waits.add(v);
    return waits.describe();
  }
  if (v.kind === "stuck") return `a range has too few owners that answer (${few(v.lost)})`;
  return "ready";
}

function describe(from: readonly MemberRef[], to: readonly MemberRef[]): string {
  const a = new Set(from.map(memberKey));
  const b = new Set(to.map(memberKey));
  const added = [...b].filter((k) => !a.has(k));
  const removed = [...a].filter((k) => !b.has(k));
  return [added.length ? `add ${added.join(",")}` : "", removed.length ? `remove ${removed.join(",")}` : ""].filter(Boolean).join("; ");
}
