/**
 * How one range's owners may change from one epoch to the next, and what each change
 * needs. Every range moves through the same three steps, whether it moves with a
 * transition of the whole ring or on its own as a pinned range:
 *
 * | step     | from → to                                   | needs                                   |
 * |----------|---------------------------------------------|-----------------------------------------|
 * | begin    | (O → X, reads O) → (O → Y, reads O)         | O fenced; Y ≠ O: R of O able to stream  |
 * | read-new | (O → N, reads O) → (O → N, reads N)         | O and N fenced; R of O streamed to N    |
 * | finish   | (O → N, reads N) → (N, reads N)             | O and N fenced                          |
 *
 * `begin` also starts a move (X = O), retargets one (a new owner died) and takes one back
 * (Y = O). A set is **fenced** when so many of its members acknowledged the current epoch
 * (and so refuse older ones) that the rest cannot complete any read or write: then the
 * range's placement before its current one can no longer complete an operation, and only
 * the current and the next are ever live together, which each step keeps compatible
 * (docs/topology.md). A range whose step needs more of its owners than can answer is
 * **stuck**: it stays as it is (pinned), and nothing else waits for it.
 */
import { isMoving, type RangeOwners, sameOwners, sameRefSet } from "./pins.ts";
import { memberKey, type MemberRef } from "./state.ts";

export type RangeStep = "begin" | "read-new" | "finish";

export interface QuorumConfig {
  replicas: number;
  writeQuorum: number;
  readQuorum: number;
}

/** The step that leads from `from` to `to`; "none" when they are the same; undefined when no single step does. */
export function stepBetween(from: RangeOwners, to: RangeOwners): RangeStep | "none" | undefined {
  if (sameOwners(from, to)) return "none";
  if (readsOld(from) && readsOld(to) && sameRefSet(from.members, to.members)) return "begin";
  if (isMoving(from) && !from.readNew && to.readNew && sameRefSet(from.members, to.members) && sameRefSet(from.next, to.next)) return "read-new";
  if (isMoving(from) && from.readNew && !isMoving(to) && sameRefSet(to.members, from.next)) return "finish";
  return undefined;
}

function readsOld(o: RangeOwners): boolean {
  return !isMoving(o) || !o.readNew;
}

/** What the driver knows of the members when it judges a step. */
export interface StepConditions {
  /** Member keys that cannot answer (dead, replaced, silent): never counted on. */
  gone: ReadonlySet<string>;
  /** Member keys that acknowledged the current epoch (and so refuse older ones). */
  fenced: ReadonlySet<string>;
  /** Whether the member (key) streamed, in this epoch, every moving range it holds to each of these new owners (ids). */
  streamedTo(key: string, to: readonly MemberRef[]): boolean;
  quorum: QuorumConfig;
  /** A member's key: `memberKey`, or `memoKeys()` when judging many ranges. */
  keyOf(m: MemberRef): string;
}

/**
 * `memberKey` with each ref's key worked out once: the planner asks about the same few
 * thousand refs for every range of the ring, and a freshly built string is hashed again at
 * every lookup.
 */
export function memoKeys(): (m: MemberRef) => string {
  const keys = new Map<MemberRef, string>();
  return (m) => {
    let key = keys.get(m);
    if (key === undefined) keys.set(m, (key = memberKey(m)));
    return key;
  };
}

export type Verdict =
  | { kind: "ok"; step: RangeStep | "none" }
  /** The members that can answer have not all done their part yet: wait for `waitingFor` (member keys). */
  | { kind: "wait"; why: "fence" | "streaming"; waitingFor: string[] }
  /** Too few of the range's owners can answer for this step ever to be safe: it stays where it is. */
  | { kind: "stuck"; lost: string[] };

/**
 * Members of a set that must have acknowledged the epoch so that no operation of an older
 * placement reading from it can complete: every completed read or write involves max(R, W)
 * of its read set (a write's W acknowledgements, a read's R answers written back to W, a
 * read that finds nothing asking max(R, W): replication/read.ts), so the others must be
 * fewer than that. A majority of the set, whatever R and W (R + W > N).
 */
export function fenceNeed(size: number, quorum: QuorumConfig): number {
  return size - Math.max(Math.min(quorum.readQuorum, size), Math.min(quorum.writeQuorum, size)) + 1;
}

/** Whether the step from `from` to `to` may be taken now, must wait, or can never be. */
export function judge(from: RangeOwners, to: RangeOwners, c: StepConditions): Verdict {
  const step = stepBetween(from, to);
  if (step === "none") return OK.none;
  if (step === undefined) return { kind: "stuck", lost: [] };
  const fence = fenceVerdict(from, c, step === "begin");
  if (fence.kind !== "ok") return fence;
  const r = Math.min(c.quorum.readQuorum, from.members.length);
  if (step === "begin" && isMoving(to) && countAnswering(from.members, c) < r) return stuck(from.members, c);
  if (step === "read-new") {
    const live = from.members.filter((m) => !c.gone.has(c.keyOf(m)));
    if (live.length < r) return stuck(from.members, c);
    const undone = live.filter((m) => !c.streamedTo(c.keyOf(m), from.next));
    if (live.length - undone.length < r) return { kind: "wait", why: "streaming", waitingFor: undone.map(c.keyOf) };
  }
  return OK[step];
}

/** The ok verdicts, one object each: the planner judges every range of the ring, most of them ok. */
const OK = { none: { kind: "ok", step: "none" }, begin: { kind: "ok", step: "begin" }, "read-new": { kind: "ok", step: "read-new" }, finish: { kind: "ok", step: "finish" } } as const satisfies Record<RangeStep | "none", Verdict>;

/**
 * Whether the range's current owner sets are fenced (`oldOnly`: its old owners alone, all
 * a `begin` needs): ok, wait for members that can answer, or stuck. Counts in loops, and
 * builds lists only for a range that is not ok.
 */
export function fenceVerdict(from: RangeOwners, c: StepConditions, oldOnly = false): Verdict {
  const sets = oldOnly || !isMoving(from) ? 1 : 2;
  let waitingFor: Set<string> | undefined;
  for (let i = 0; i < sets; i++) {
    const set = i === 0 ? from.members : from.next;
    const need = fenceNeed(set.length, c.quorum);
    let possible = 0;
    let fenced = 0;
    for (const m of set) {
      const key = c.keyOf(m);
      if (c.gone.has(key)) continue;
      possible++;
      if (c.fenced.has(key)) fenced++;
    }
    if (possible < need) return stuck(set, c);
    if (fenced >= need) continue;
    for (const m of set) {
      const key = c.keyOf(m);
      if (!c.gone.has(key) && !c.fenced.has(key)) (waitingFor ??= new Set()).add(key);
    }
  }
  if (waitingFor) return { kind: "wait", why: "fence", waitingFor: [...waitingFor] };
  return OK.none;
}

function countAnswering(set: readonly MemberRef[], c: StepConditions): number {
  let n = 0;
  for (const m of set) if (!c.gone.has(c.keyOf(m))) n++;
  return n;
}

function stuck(set: readonly MemberRef[], c: StepConditions): Verdict {
  return { kind: "stuck", lost: set.filter((m) => c.gone.has(c.keyOf(m))).map(c.keyOf) };
}

/**
 * The next step of a range on its own toward owners `target` (a pinned range catching up
 * with the members' ring): finish a move whose reads moved, else read from new owners that
 * are the target, else (re)target.
 */
export function stepToward(from: RangeOwners, target: readonly MemberRef[]): RangeOwners {
  if (isMoving(from) && from.readNew) return { members: from.next, next: from.next, readNew: false };
  if (sameRefSet(from.next, target)) {
    return isMoving(from) ? { members: from.members, next: from.next, readNew: true } : from;
  }
  return { members: from.members, next: target, readNew: false };
}
