/**
 * What processes said about themselves in their hellos (`/_ring/hello`): who asks to be a
 * member, and who said it is leaving. Words, not facts: the driver takes a joiner only
 * once SWIM holds it alive at that address, and forgets both after a while.
 */
import type { Clock } from "../env.ts";
import { lowestMembers, ringMembers, memberKey, type MemberRef, type TopologyState } from "./state.ts";

/** How long a process that said hello counts as asking to join. */
export const CANDIDATE_FRESH_MS = 5_000;
/** How long a member that said it is leaving counts as leaving. */
const LEAVER_MEMORY_MS = 60_000;
/** Members and candidates tracked at most. */
const MAX_TRACKED = 10_000;
/** How many members in line to drive a joiner's hello goes to. */
export const HELLO_FANOUT = 3;

/**
 * Where a node of the ring's `state` sends its hello (member ids). Only the driver acts on a
 * joiner's, so it goes to the few members that are or would be next in line to drive, as
 * this node sees them (`alive`; any if it sees none alive yet): what a joiner costs the ring
 * does not grow with the ring. A leaver tells every member, so each knows who is staying.
 */
export function helloTargets(state: TopologyState, self: string, leaving: boolean, alive: (id: string) => boolean): string[] {
  if (leaving) return ringMembers(state).map((m) => m.id);
  const inLine = lowestMembers(state, (m) => m.id !== self && alive(m.id), HELLO_FANOUT);
  return (inLine.length > 0 ? inLine : lowestMembers(state, (m) => m.id !== self, HELLO_FANOUT)).map((m) => m.id);
}

export class Hellos {
  /** Member key → its latest hello (`at`) and the first of its unbroken run of them (`since`). */
  readonly #candidates = new Map<string, { ref: MemberRef; at: number; since: number }>();
  readonly #leavers = new Map<string, number>();

  constructor(readonly clock: Pick<Clock, "monotonicMs">) {}

  /** A process asks to join (its latest word per member key is kept). */
  asking(ref: MemberRef): void {
    const key = memberKey(ref);
    const now = this.clock.monotonicMs();
    const known = this.#candidates.get(key);
    const since = known && now - known.at <= CANDIDATE_FRESH_MS ? known.since : now;
    if (this.#candidates.size < MAX_TRACKED || known) this.#candidates.set(key, { ref, at: now, since });
  }

  /** Since when a candidate has been asking to join, without a break (local monotonic ms). */
  askingSince(ref: MemberRef): number | undefined {
    return this.#candidates.get(memberKey(ref))?.since;
  }

  noteLeaving(id: string): void {
    if (this.#leavers.size < MAX_TRACKED) this.#leavers.set(id, this.clock.monotonicMs() + LEAVER_MEMORY_MS);
  }

  /** Processes that said hello lately (asking to join). */
  candidates(now = this.clock.monotonicMs()): MemberRef[] {
    const fresh: MemberRef[] = [];
    for (const [key, c] of this.#candidates) {
      if (now - c.at > CANDIDATE_FRESH_MS) this.#candidates.delete(key);
      else fresh.push(c.ref);
    }
    return fresh;
  }

  /** Member ids that said lately they are leaving. */
  leavers(now = this.clock.monotonicMs()): Set<string> {
    for (const [id, until] of this.#leavers) if (until <= now) this.#leavers.delete(id);
    return new Set(this.#leavers.keys());
  }
}
