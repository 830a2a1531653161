/**
 * The agreed ring: a sequence of epochs, each a decided value of plain data. Ownership
 * lives here, liveness in SWIM: a member declared dead keeps its ranges until an epoch
 * removes it.
 *
 * A member is a process, not an address: `{id, nonce}`, where the nonce is drawn at each
 * process start. A process restarted at the same address has lost its memory, so it is a
 * new member (it owns nothing, and never votes, as the one it was).
 *
 * A change of owners goes through ScyllaDB's states, one epoch each:
 *
 * | phase                 | reads ask        | writes need W of      |
 * |-----------------------|------------------|-----------------------|
 * | stable                | members          | members               |
 * | write_both_read_old   | members          | members and next      |
 * | write_both_read_new   | next             | members and next      |
 * | stable (next epoch)   | next → members   | members               |
 *
 * Any two adjacent epochs' operations are safe together (each reads a set that every
 * write of the other reaches), and an epoch is decided only after the epoch before its
 * predecessor can no longer complete an operation (plan.ts), so only adjacent epochs ever
 * overlap. docs/topology.md has the whole argument.
 */

export interface MemberRef {
  /** The address other nodes reach it at (host:port): the SWIM id and the ring placement. */
  id: string;
  /** Drawn at process start: a restarted process at the same address is a new member. */
  nonce: string;
}

export type Phase = "stable" | "write_both_read_old" | "write_both_read_new";

export interface TopologyState {
  /** The founder's member key: rings of different clusters never mix. */
  cluster: string;
  /** 0: no ring known yet (a joiner before it has learned one). */
  epoch: number;
  phase: Phase;
  /** The owners; during a transition, the old owners. Sorted by id, then nonce. */
  members: MemberRef[];
  /** During a transition, the new owners; empty when stable. Sorted likewise. */
  next: MemberRef[];
  /** Keys of members removed, newest last: never added again (a comeback is a new nonce). */
  removed: string[];
}

/** Removed members remembered; older ones are forgotten first. */
export const MAX_REMOVED = 1_000;

export const NO_RING: TopologyState = { cluster: "", epoch: 0, phase: "stable", members: [], next: [], removed: [] };

export const memberKey = (m: MemberRef): string => `${m.id}#${m.nonce}`;

export function compareRefs(a: MemberRef, b: MemberRef): number {
  if (a.id !== b.id) return a.id < b.id ? -1 : 1;
  return a.nonce < b.nonce ? -1 : a.nonce > b.nonce ? 1 : 0;
}

export const sortRefs = (refs: readonly MemberRef[]): MemberRef[] => [...refs].sort(compareRefs);

/** The ring a node starting a new cluster decides alone: epoch 1, itself. */
export function founding(self: MemberRef): TopologyState {
  return { cluster: memberKey(self), epoch: 1, phase: "stable", members: [self], next: [], removed: [] };
}

/** Who decides the epoch after `state`: every member of it, old and new. */
export function acceptors(state: TopologyState): MemberRef[] {
  const seen = new Set<string>();
  const all: MemberRef[] = [];
  for (const m of [...state.members, ...state.next]) {
    const k = memberKey(m);
    if (!seen.has(k)) {
      seen.add(k);
      all.push(m);
    }
  }
  return all;
}

export const majority = (n: number): number => Math.floor(n / 2) + 1;

export function isAcceptor(state: TopologyState, self: MemberRef): boolean {
  return acceptors(state).some((m) => m.id === self.id && m.nonce === self.nonce);
}

/**
 * Old members whose address a new member took over (a process restarted there): the old
 * process is gone for good, so it can never answer as an old owner.
 */
export function superseded(state: TopologyState): Set<string> {
  const gone = new Set<string>();
  for (const m of state.members) {
    if (state.next.some((n) => n.id === m.id && n.nonce !== m.nonce)) gone.add(m.id);
  }
  return gone;
}

/** The state after `current` with owners `to`: a transition starts (or is retargeted). */
export function beginTransition(current: TopologyState, to: readonly MemberRef[]): TopologyState {
  return { ...current, epoch: current.epoch + 1, phase: "write_both_read_old", next: sortRefs(to) };
}

export function readFromNew(current: TopologyState): TopologyState {
  return { ...current, epoch: current.epoch + 1, phase: "write_both_read_new" };
}

/** The transition ends: the new owners are the members; the old ones not among them are removed. */
export function finishTransition(current: TopologyState): TopologyState {
  const kept = new Set(current.next.map(memberKey));
  const gone = current.members.filter((m) => !kept.has(memberKey(m))).map(memberKey);
  const removed = [...current.removed, ...gone].slice(-MAX_REMOVED);
  return { ...current, epoch: current.epoch + 1, phase: "stable", members: current.next, next: [], removed };
}

export function sameRefs(a: readonly MemberRef[], b: readonly MemberRef[]): boolean {
  return a.length === b.length && a.every((m, i) => compareRefs(m, b[i]!) === 0);
}

/**
 * A short fingerprint of an epoch's whole value, equal on every node that holds it:
 * FNV-1a, 32 bits, as 8 hex digits.
 */
export function stateChecksum(state: TopologyState): string {
  let h = 0x811c9dc5;
  const mix = (text: string) => {
    for (let i = 0; i < text.length; i++) {
      h ^= text.charCodeAt(i);
      h = Math.imul(h, 0x01000193) >>> 0;
    }
  };
  mix(`${state.cluster}|${state.epoch}|${state.phase}|`);
  for (const m of state.members) mix(memberKey(m) + ",");
  mix("|");
  for (const m of state.next) mix(memberKey(m) + ",");
  return h.toString(16).padStart(8, "0");
}
