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
 * A range that cannot move with the rest (too few of its owners can answer: two of three
 * lost at once) is **pinned**: it keeps the owners and phase it had, whatever the members'
 * ring says, and moves on by itself once it can (pins.ts). So a lost quorum holds only its
 * own keys, never the ring.
 *
 * Per range, two consecutive placements are safe together (each reads a set that every
 * write of the other reaches), and a range's placement changes only once the placement
 * before its current one can no longer complete an operation (plan.ts, range_steps.ts),
 * so at most two placements of a range are ever live. docs/topology.md has the argument.
 */

import { MAX_REMOVED, memberKey, type MemberRef, type TopologyState } from "../wire/topology_state.ts";

// The state's shape lives with its encoding (lib/wire is a leaf); its rules live here.
export type { MemberRef, Phase, Pin, Recovery, TopologyState } from "../wire/topology_state.ts";
export { MAX_PINS, MAX_RECOVERIES, MAX_REMOVED, memberKey } from "../wire/topology_state.ts";

export const NO_RING: TopologyState = { cluster: "", epoch: 0, phase: "stable", members: [], next: [], removed: [], pins: [], recoveries: [] };

export function compareRefs(a: MemberRef, b: MemberRef): number {
  if (a.id !== b.id) return a.id < b.id ? -1 : 1;
  return a.nonce < b.nonce ? -1 : a.nonce > b.nonce ? 1 : 0;
}

export const sortRefs = (refs: readonly MemberRef[]): MemberRef[] => [...refs].sort(compareRefs);

/** The ring a node starting a new cluster decides alone: epoch 1, itself. */
export function founding(self: MemberRef): TopologyState {
  return { cluster: memberKey(self), epoch: 1, phase: "stable", members: [self], next: [], removed: [], pins: [], recoveries: [] };
}

/** The processes on the ring of `state`: its members, old and new. */
export function ringMembers(state: TopologyState): MemberRef[] {
  return distinct([...state.members, ...state.next]);
}

/** Who decides the epoch after `state`: its council if it names one (council.ts), else every member, old and new. */
export function acceptors(state: TopologyState): MemberRef[] {
  return state.council?.length ? state.council : ringMembers(state);
}

/**
 * The first `count` members of `state` in id order that `keep` takes: the driver and
 * those next in line. `members` and `next` are each sorted, so this walks them together
 * and stops once it has enough, never looking at every member.
 */
export function lowestMembers(state: TopologyState, keep: (m: MemberRef) => boolean, count: number): MemberRef[] {
  const found: MemberRef[] = [];
  const { members, next } = state;
  let i = 0, j = 0;
  let last: MemberRef | undefined;
  while (found.length < count && (i < members.length || j < next.length)) {
    const fromMembers = j >= next.length || (i < members.length && compareRefs(members[i]!, next[j]!) <= 0);
    const m = fromMembers ? members[i++]! : next[j++]!;
    if (last && compareRefs(last, m) === 0) continue;
    last = m;
    if (keep(m)) found.push(m);
  }
  return found;
}

/** The processes in `refs`, each once, in order of first appearance. */
export function distinct(refs: readonly MemberRef[]): MemberRef[] {
  const byKey = new Map<string, MemberRef>();
  for (const m of refs) if (!byKey.has(memberKey(m))) byKey.set(memberKey(m), m);
  return [...byKey.values()];
}

export const majority = (n: number): number => Math.floor(n / 2) + 1;

export function isAcceptor(state: TopologyState, self: MemberRef): boolean {
  return acceptors(state).some((m) => m.id === self.id && m.nonce === self.nonce);
}

export function isRingMember(state: TopologyState, self: MemberRef): boolean {
  return [state.members, state.next].some((set) => set.some((m) => m.id === self.id && m.nonce === self.nonce));
}

/** Every process the value names as an owner of something: acceptors and the owners of pinned ranges. */
export function owners(state: TopologyState): MemberRef[] {
  return distinct([...state.members, ...state.next, ...state.pins.flatMap((p) => [...p.members, ...p.next])]);
}

export function isOwner(state: TopologyState, self: MemberRef): boolean {
  return owners(state).some((m) => m.id === self.id && m.nonce === self.nonce);
}

/**
 * Old members whose address a new member took over (a process restarted there): the old
 * process is gone for good, so it can never answer as an old owner.
 */
export function superseded(state: TopologyState): Set<string> {
  const gone = new Set<string>();
  if (state.next.length === 0) return gone;
  const nextNonces = new Map<string, string[]>();
  for (const n of state.next) nextNonces.set(n.id, [...(nextNonces.get(n.id) ?? []), n.nonce]);
  for (const m of state.members) {
    if (nextNonces.get(m.id)?.some((nonce) => nonce !== m.nonce)) gone.add(m.id);
  }
  return gone;
}

/**
 * Processes gone for good because a newer one answers from their address (member keys):
 * old members whose address a new member took, and owners of pinned ranges whose address a
 * member of the ring answers from with another nonce. No placement ever asks them.
 */
export function supersededKeys(state: TopologyState): Set<string> {
  const ring = [...state.members, ...state.next];
  const ids = new Set(ring.map((m) => m.id));
  const keys = new Set(ring.map(memberKey));
  const oldIds = superseded(state);
  const gone = new Set(state.members.filter((m) => oldIds.has(m.id)).map(memberKey));
  for (const pin of state.pins) {
    for (const m of [...pin.members, ...pin.next]) if (ids.has(m.id) && !keys.has(memberKey(m))) gone.add(memberKey(m));
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

/** The transition ends: the new owners are the members; the old ones no range names any more are removed. */
export function finishTransition(current: TopologyState): TopologyState {
  return withRemoved(current, { ...current, epoch: current.epoch + 1, phase: "stable", members: current.next, next: [] });
}

/** `next` with every process `previous` named and `next` no longer names added to `removed`. */
export function withRemoved(previous: TopologyState, next: TopologyState): TopologyState {
  const still = new Set(owners(next).map(memberKey));
  const gone = owners(previous).map(memberKey).filter((k) => !still.has(k) && !next.removed.includes(k));
  return gone.length === 0 ? next : { ...next, removed: [...next.removed, ...gone].slice(-MAX_REMOVED) };
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
  for (const p of state.pins) {
    mix(`|${p.lo.toString(16)}-${p.hi.toString(16)}:${p.readNew}:${p.since}:${p.at}:`);
    for (const m of p.members) mix(memberKey(m) + ",");
    mix("/");
    for (const m of p.next) mix(memberKey(m) + ",");
  }
  for (const r of state.recoveries) mix(`|r${r.epoch}:${r.at}:${r.by}:${r.ranges.join(",")}`);
  if (state.council?.length) {
    mix("|k");
    for (const m of state.council) mix(memberKey(m) + ",");
  }
  return h.toString(16).padStart(8, "0");
}
