/**
 * What processes said about themselves in their hellos (`/_ring/hello`): who asks to be a
 * member, and who said it is leaving. Words, not facts: the driver takes a joiner only
 * once SWIM holds it alive at that address, and forgets both after a while.
 */
import type { Clock } from "../env.ts";
import { memberKey, type MemberRef } from "./state.ts";

/** How long a process that said hello counts as asking to join. */
export const CANDIDATE_FRESH_MS = 5_000;
/** How long a member that said it is leaving counts as leaving. */
const LEAVER_MEMORY_MS = 60_000;
/** Members and candidates tracked at most. */
const MAX_TRACKED = 10_000;

export class Hellos {
  readonly #candidates = new Map<string, { ref: MemberRef; at: number }>();
  readonly #leavers = new Map<string, number>();

  constructor(readonly clock: Pick<Clock, "monotonicMs">) {}

  /** A process asks to join (its latest word per member key is kept). */
  asking(ref: MemberRef): void {
    const key = memberKey(ref);
    if (this.#candidates.size < MAX_TRACKED || this.#candidates.has(key)) this.#candidates.set(key, { ref, at: this.clock.monotonicMs() });
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
