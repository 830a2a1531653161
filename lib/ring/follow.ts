/**
 * Keeps a ring in step with membership: alive and suspect members are on it, dead and left
 * ones are not. Positions are hashed asynchronously, so changes are applied in batches, in
 * the order membership reported them: everything reported while a batch is hashed goes
 * into the next one.
 */
import { isGone, type MemberState } from "../membership/member.ts";
import { vnodePositions } from "./hash.ts";
import type { Ring } from "./ring.ts";

export interface RingFollower {
  /** Reports a member's new state; the ring catches up in order. */
  update(member: string, state: MemberState): void;
  /** Resolves once every update reported so far is on the ring. */
  settled(): Promise<void>;
}

export function followMembership(ring: Ring, vnodes: number): RingFollower {
  let pending: Array<[string, MemberState]> = [];
  let draining: Promise<void> | undefined;

  /** Applies everything reported so far in one ring rebuild, then anything reported meanwhile. */
  async function drain(): Promise<void> {
    while (pending.length > 0) {
      const batch = pending;
      pending = [];
      const changes = await Promise.all(
        batch.map(async ([member, state]) => ({
          member,
          positions: isGone(state) ? undefined : await vnodePositions(member, vnodes),
        })),
      );
      ring.apply(changes);
    }
    draining = undefined;
  }

  return {
    update(member, state) {
      pending.push([member, state]);
      draining ??= drain();
    },
    settled: () => draining ?? Promise.resolve(),
  };
}
