/**
 * Who votes on the next epoch. In a ring of at most COUNCIL_SIZE members, every member
 * does; past that, the value names a **council** of COUNCIL_SIZE of its members, and only
 * they are the acceptors of the instance that decides the epoch after it. So an epoch's
 * Paxos costs its proposer 2 × COUNCIL_SIZE messages at any size, not two per member.
 *
 * Safety does not depend on who sits on the council: Paxos is safe for any acceptor set
 * all proposers of an instance agree on, and the council of instance e+1 is part of the
 * decided value of epoch e, which every node holding epoch e holds alike. Liveness does:
 * a majority of the council must answer. So the proposer of each value seats members it
 * holds alive (and not leaving), spread over hosts in proportion to their members (one
 * lost host costs the council about its share of the ring, not all of it); every change of
 * owners seats a new one, and a council about to lose its majority is replaced by an epoch
 * of its own (`wantsNewCouncil`).
 * docs/topology.md has the argument.
 */
import { ringPosition } from "../ring/hash.ts";
import { compareRefs, majority, memberKey, type MemberRef, ringMembers, type TopologyState } from "./state.ts";

/**
 * Seats on a council. Its majority must outlive every burst of losses: a council whose
 * majority is gone for good (crashed processes come back as new members) freezes changes of
 * owners. Every member of a ring of up to 25 votes, so killing any minority of a laptop's 24
 * nodes stays as safe as it always was; past that, 25 seats fall to a majority only when
 * 13 of them go within the seconds it takes to replace them, while an epoch's Paxos costs
 * 50 messages at any size.
 */
export const COUNCIL_SIZE = 25;

/** The host part of a member's address (`host:port`): members on one host fail together. */
export function hostOf(id: string): string {
  const colon = id.lastIndexOf(":");
  return colon < 0 ? id : id.slice(0, colon);
}

/**
 * The council `value` should name: none (every member votes) in a ring of at most
 * COUNCIL_SIZE members; else COUNCIL_SIZE of those `usable` takes (fewer if fewer are),
 * apportioned over hosts by Sainte-Laguë (a host's i-th seat ranks at (i + ½) / its
 * members), members of a host ranked by the hash of their key. Sorted like `members`.
 */
export function chooseCouncil(value: TopologyState, usable: (m: MemberRef) => boolean): MemberRef[] {
  const all = ringMembers(value);
  if (all.length <= COUNCIL_SIZE) return [];
  const byHost = new Map<string, Array<{ ref: MemberRef; hash: bigint }>>();
  for (const ref of all) {
    if (!usable(ref)) continue;
    const host = hostOf(ref.id);
    const list = byHost.get(host) ?? [];
    list.push({ ref, hash: ringPosition(memberKey(ref)) });
    byHost.set(host, list);
  }
  const seats: Array<{ ref: MemberRef; rank: number; hostSize: number; hash: bigint }> = [];
  for (const list of byHost.values()) {
    list.sort((a, b) => (a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0));
    list.forEach((m, i) => seats.push({ ref: m.ref, rank: (i + 0.5) / list.length, hostSize: list.length, hash: m.hash }));
  }
  seats.sort((a, b) => a.rank - b.rank || b.hostSize - a.hostSize || (a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0));
  return seats.slice(0, COUNCIL_SIZE).map((s) => s.ref).sort(compareRefs);
}

/**
 * Whether the council of `state` should be replaced now, by an epoch that changes nothing
 * else: once one more loss would leave it without a majority (every change of owners seats
 * a new council anyway, and removing a dead member is one; an epoch of its own costs every
 * coordinator a catch-up), or, in a stable ring, when it has fewer seats than usable members
 * could fill (seated while few were usable: a partition).
 */
export function wantsNewCouncil(state: TopologyState, usable: (m: MemberRef) => boolean): boolean {
  const council = state.council ?? [];
  if (council.length === 0) return false;
  if (council.filter(usable).length <= majority(council.length)) return true;
  return state.phase === "stable" && council.length < COUNCIL_SIZE && ringMembers(state).filter(usable).length > council.length;
}
