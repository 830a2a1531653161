/**
 * Keeps a ring in step with membership: alive and suspect members are on it, dead and left
 * ones are not. The ring merges changes lazily, so a burst of updates (a joiner learning
 * the whole membership) costs one rebuild.
 */
import { isGone, type MemberState } from "../membership/member.ts";
import { vnodePositions } from "./hash.ts";
import type { Ring } from "./ring.ts";

/** Reports a member's new state to the ring. */
export type RingFollower = (member: string, state: MemberState) => void;

export function followMembership(ring: Ring, vnodes: number): RingFollower {
  return (member, state) => {
    if (isGone(state)) ring.remove(member);
    else ring.add(member, vnodePositions(member, vnodes));
  };
}
