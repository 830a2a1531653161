/**
 * Joiners come in crowds (a cluster starting, a rack powered on), and each change of owners
 * costs three epochs and a round of streaming, so the driver gathers them: it holds joiners
 * back while new ones are still arriving or some that asked are not yet alive in its SWIM
 * view, but never past JOIN_GATHER_MAX_MS from the first of them.
 */

/** How long no new joiner must have asked before the ones gathered are added. */
export const JOIN_QUIET_MS = 1_000;
/** How long the first joiner of a crowd waits at most for the rest. */
export const JOIN_GATHER_MAX_MS = 5_000;

/** One process asking to join: since when (local monotonic ms), and whether SWIM holds it alive. */
export interface Asking {
  since: number;
  alive: boolean;
}

/** Whether to hold the joiners back for now, to add them with the rest of their crowd. */
export function gatheringJoiners(asking: readonly Asking[], now: number): boolean {
  if (asking.length === 0) return false;
  let first = Infinity, last = -Infinity;
  for (const a of asking) {
    first = Math.min(first, a.since);
    last = Math.max(last, a.since);
  }
  if (now - first >= JOIN_GATHER_MAX_MS) return false;
  return now - last < JOIN_QUIET_MS || asking.some((a) => !a.alive);
}
