/**
 * Ranges that lost a quorum of their owners: pinned ranges too few of whose owners are
 * still members of the ring for a read or a write quorum. Their keys answer 503 with
 * `quorumLost`, and they wait for their owners to come back or for an operator's
 * `mod.ts recover` (recover.ts). What this node knows: the ring it holds.
 */
import { pinName, readSet, writeSets } from "./pins.ts";
import type { QuorumConfig } from "./range_steps.ts";
import { distinct, memberKey, type MemberRef, type Pin, ringMembers, type TopologyState } from "./state.ts";

export interface LostRange {
  /** The range's name for `recover --range`: its first and last positions in hex. */
  range: string;
  /** Its owners (old and new, while it was moving), as ids. */
  owners: string[];
  /** The owners no longer members of the ring (dead, or cut off on the other side), as ids. */
  dead: string[];
  /** When it was pinned (ISO time, the proposer's clock). */
  since: string;
  /** The epoch that pinned it. */
  epoch: number;
}

/** The pinned range's loss, if too few of its owners are members for some quorum it needs. */
export function lostQuorum(state: TopologyState, pin: Pin, quorum: QuorumConfig): LostRange | undefined {
  const live = new Set(ringMembers(state).map(memberKey));
  const alive = (set: readonly MemberRef[]) => set.filter((m) => live.has(memberKey(m))).length;
  const need = (set: readonly MemberRef[], q: number) => Math.min(q, set.length);
  const reads = readSet(pin);
  const lost = alive(reads) < need(reads, quorum.readQuorum) || writeSets(pin).some((set) => alive(set) < need(set, quorum.writeQuorum));
  if (!lost) return undefined;
  const all = distinct([...pin.members, ...pin.next]);
  return {
    range: pinName(pin),
    owners: all.map((m) => m.id),
    dead: all.filter((m) => !live.has(memberKey(m))).map((m) => m.id),
    since: new Date(pin.at).toISOString(),
    epoch: pin.since,
  };
}

/** Every range of the ring that lost a quorum of its owners. */
export function lostRanges(state: TopologyState, quorum: QuorumConfig): LostRange[] {
  return state.pins.map((p) => lostQuorum(state, p, quorum)).filter((l): l is LostRange => l !== undefined);
}
