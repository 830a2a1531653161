/**
 * What the driver proposes next, as a pure function of the decided epoch and what the
 * driver has heard: the topology state machine's transitions and the conditions that
 * make each one safe.
 *
 * - stable → write_both_read_old: owners to add (joiners), remove (dead past the removal
 *   delay, replaced by a restarted process) or let go (leaving).
 * - write_both_read_old → write_both_read_new: for every range that changes owners, R of
 *   its old owners have pushed all they hold of it to every new owner ("streamed"). Any
 *   write acknowledged before is on W old owners, so on one of those R.
 * - write_both_read_old → write_both_read_old: a new owner died or is leaving; the new
 *   set drops it and streaming starts over.
 * - write_both_read_new → stable: the new owners are the members.
 *
 * Every step also waits for the fence: in every range, enough of each owner set has
 * acknowledged the current epoch (and so refuses operations of older ones) that no older
 * read or write quorum can still be formed. So the epoch before the current one is over
 * when the next one is decided, and only adjacent epochs' operations ever overlap.
 */
import type { Layout } from "./placement.ts";
import { isGhost } from "./placement.ts";
import {
  beginTransition,
  finishTransition,
  memberKey,
  type MemberRef,
  readFromNew,
  sameRefs,
  sortRefs,
  type TopologyState,
} from "./state.ts";

export interface DriverView {
  /** Member keys that may be removed: dead for the removal delay, or replaced by a restarted process. */
  removable: ReadonlySet<string>;
  /** Member ids that said they are leaving. */
  leaving: ReadonlySet<string>;
  /** Processes alive and asking to be members (never one in `removed`). */
  joiners: readonly MemberRef[];
  /** Member keys that acknowledged the current epoch. */
  fenced: ReadonlySet<string>;
  /** Old member keys that streamed every changing range they hold, in the current epoch. */
  streamed: ReadonlySet<string>;
}

export interface QuorumConfig {
  replicas: number;
  writeQuorum: number;
  readQuorum: number;
}

export type Step =
  | { kind: "wait"; reason: string }
  | { kind: "propose"; value: TopologyState; why: string };

export function nextStep(layout: Layout, view: DriverView, quorum: QuorumConfig): Step {
  const state = layout.state;
  if (state.epoch === 0) return { kind: "wait", reason: "no ring" };
  const gone = (m: MemberRef) => view.removable.has(memberKey(m)) || view.leaving.has(m.id);

  if (state.phase === "stable") {
    const removed = new Set(state.removed);
    const keep = state.members.filter((m) => !gone(m));
    const add = view.joiners.filter((j) => !removed.has(memberKey(j)) && !state.members.some((m) => memberKey(m) === memberKey(j)) && !view.leaving.has(j.id));
    const desired = sortRefs([...keep, ...add]);
    if (desired.length === 0 || sameRefs(desired, state.members)) return { kind: "wait", reason: "nothing to change" };
    const fence = fenceHolds(layout, view.fenced, quorum);
    if (fence !== true) return { kind: "wait", reason: fence };
    return { kind: "propose", value: beginTransition(state, desired), why: describe(state.members, desired) };
  }

  const fence = fenceHolds(layout, view.fenced, quorum);
  if (fence !== true) return { kind: "wait", reason: fence };

  if (state.phase === "write_both_read_old") {
    const survivors = state.next.filter((m) => !gone(m));
    if (survivors.length > 0 && survivors.length < state.next.length) {
      return { kind: "propose", value: beginTransition(state, survivors), why: `retarget: ${describe(state.next, survivors)}` };
    }
    const streaming = streamingDone(layout, view.streamed, quorum);
    if (streaming !== true) return { kind: "wait", reason: streaming };
    return { kind: "propose", value: readFromNew(state), why: "new owners hold every moved range" };
  }
  return { kind: "propose", value: finishTransition(state), why: "transition complete" };
}

/**
 * True when, at every arc, each owner set has fewer members that have not acknowledged
 * this epoch than any quorum needs (reads or writes); else why not.
 */
export function fenceHolds(layout: Layout, fenced: ReadonlySet<string>, quorum: QuorumConfig): true | string {
  const { state } = layout;
  const oldKey = keysById(state.members);
  const newKey = keysById(state.next);
  for (const position of layout.arcEnds()) {
    const sets: Array<[string[], Map<string, string>]> = [[layout.oldOwners(position), oldKey]];
    if (!layout.stable) sets.push([layout.newOwners(position), newKey]);
    for (const [owners, keyOf] of sets) {
      const n = owners.length;
      const smallest = Math.min(quorum.readQuorum, quorum.writeQuorum, n);
      const need = n - smallest + 1;
      const acked = owners.filter((o) => !isGhost(o) && fenced.has(keyOf.get(o) ?? "")).length;
      if (acked < need) return `epoch ${state.epoch} acknowledged by ${acked} of ${owners.join(",")}, ${need} needed`;
    }
  }
  return true;
}

/** True when every changing arc has R old owners that streamed it; else why not. */
export function streamingDone(layout: Layout, streamed: ReadonlySet<string>, quorum: QuorumConfig): true | string {
  const oldKey = keysById(layout.state.members);
  for (const position of layout.arcEnds()) {
    if (!layout.changes(position)) continue;
    const owners = layout.oldOwners(position);
    const r = Math.min(quorum.readQuorum, owners.length);
    const done = owners.filter((o) => !isGhost(o) && streamed.has(oldKey.get(o) ?? "")).length;
    if (done < r) return `a moving range streamed by ${done} of ${owners.join(",")}, ${r} needed`;
  }
  return true;
}

function keysById(refs: readonly MemberRef[]): Map<string, string> {
  return new Map(refs.map((m) => [m.id, memberKey(m)]));
}

function describe(from: readonly MemberRef[], to: readonly MemberRef[]): string {
  const a = new Set(from.map(memberKey));
  const b = new Set(to.map(memberKey));
  const added = [...b].filter((k) => !a.has(k));
  const removed = [...a].filter((k) => !b.has(k));
  return [added.length ? `add ${added.join(",")}` : "", removed.length ? `remove ${removed.join(",")}` : ""].filter(Boolean).join("; ");
}
