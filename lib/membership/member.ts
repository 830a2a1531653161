/**
 * The member table's rules, as pure functions: which update about a member wins.
 *
 * SWIM orders what the cluster says about a member by its incarnation number, which only
 * the member itself raises (to refute a suspicion, or to rejoin). At equal incarnation a
 * worse state wins: alive < suspect < dead/left. A dead or left member comes back only
 * with a higher incarnation.
 */

import type { MemberState, Update } from "../wire/swim.ts";

// The unit of gossip is defined with the message that carries it (lib/wire is a leaf).
export type { MemberState, Update } from "../wire/swim.ts";

export interface Member {
  id: string;
  state: MemberState;
  incarnation: number;
  /** Local time of the last state change. */
  since: number;
}

const severity: Record<MemberState, number> = { alive: 0, suspect: 1, dead: 2, left: 2 };

export function isGone(state: MemberState): boolean {
  return state === "dead" || state === "left";
}

/**
 * Whether a gone member has been gone long enough (`--reap-after-ms`, by `since`) to be
 * reaped: left out of the member list and of full-state exchanges, which otherwise would
 * carry every member that ever left (memberlist's push-pull grew until it hit its cap).
 * The table still holds its incarnation (up to MAX_GONE_REMEMBERED), so a stale word that
 * it is alive cannot bring it back; a reaped dead member is still pinged now and then, as
 * every dead one is: one alive after a long partition refutes above that incarnation.
 */
export function isReaped(member: Pick<Member, "state" | "since">, now: number, reapAfterMs: number): boolean {
  return isGone(member.state) && now - member.since >= reapAfterMs;
}

/**
 * Whether `update` changes what we know of a member we hold as `current` (undefined when
 * unknown). Pure: the member table and the tests both use it.
 */
export function supersedes(update: Update, current: Pick<Member, "state" | "incarnation"> | undefined): boolean {
  if (!current) return !isGone(update.state); // no point learning of a stranger's death
  if (update.incarnation > current.incarnation) return true;
  if (update.incarnation < current.incarnation) return false;
  if (isGone(current.state)) return false; // the same incarnation cannot come back
  return severity[update.state] > severity[current.state];
}

/**
 * Of `ours` (a full table), the updates that would change `theirs` (the asker's full table)
 * once merged there, where a death counts as a suspicion (state_sync.ts merges it so) but
 * about the asker itself: what a push-pull's answer needs to carry.
 */
export function lackedBy(ours: readonly Update[], theirs: readonly Update[], asker: string): Update[] {
  const held = new Map(theirs.map((u) => [u.id, u]));
  return ours.filter((u) => supersedes(u.state === "dead" && u.id !== asker ? { ...u, state: "suspect" } : u, held.get(u.id)));
}

/**
 * What a node does with an update about itself: refute anything but alive at or above its
 * incarnation by raising its own past it. Returns the incarnation to announce, or
 * undefined when there is nothing to refute.
 */
export function refutation(self: number, update: Update): number | undefined {
  if (update.incarnation < self) return undefined;
  if (update.state === "alive" && update.incarnation === self) return undefined;
  return update.incarnation + 1;
}

/**
 * What a message to a member should tell it about itself: that it is held suspect or dead
 * here (`by` names who suspects it), so that if it is alive it refutes at once, rather than
 * after gossip or a push-pull happens to reach it. Undefined for a member held alive.
 */
export function newsForItself(member: Member | undefined, by: string): Update | undefined {
  if (member?.state !== "suspect" && member?.state !== "dead") return undefined;
  return { id: member.id, state: member.state, incarnation: member.incarnation, from: by };
}

/**
 * What an ack to a ping-req passes on of the member it reached: its word that it is alive
 * at the incarnation its ack just carried. The asker could not reach it, so it may also
 * have missed the member's refutation, which gossip stops sending after a few copies.
 */
export function wordOf(member: Member | undefined, by: string): Update | undefined {
  if (member?.state !== "alive") return undefined;
  return { id: member.id, state: "alive", incarnation: member.incarnation, from: by };
}

/** Puts `news` first among a message's `updates`, unless they already say something of that member. */
export function withNews(updates: Update[], news: Update | undefined): Update[] {
  if (news && !updates.some((u) => u.id === news.id)) updates.unshift(news);
  return updates;
}
