/**
 * The protocol's timing maths, pure and table-tested (the same formulas as memberlist and
 * Lifeguard, with N the number of members including this one).
 */

/** Lifeguard's minimum suspicion timeout: mult × log10(N+1) × period. */
export function suspicionMinMs(suspicionMult: number, members: number, periodMs: number): number {
  return Math.round(suspicionMult * Math.log10(Math.max(1, members) + 1) * periodMs);
}

/**
 * The suspicion timeout after `confirmations` independent suspicions out of the `expected`
 * ones: starts at max and falls logarithmically to min as they arrive, so a member many
 * nodes suspect is declared quickly and a lone, possibly wrong, suspicion waits longest.
 */
export function suspicionTimeoutMs(minMs: number, maxMs: number, expected: number, confirmations: number): number {
  if (expected < 1) return minMs;
  const fraction = Math.log(Math.min(confirmations, expected) + 1) / Math.log(expected + 1);
  return Math.max(minMs, Math.floor(maxMs - (maxMs - minMs) * fraction));
}

/**
 * How many other nodes' suspicions to expect: mult − 2 (memberlist), none in a cluster too
 * small to provide them.
 */
export function expectedConfirmations(suspicionMult: number, members: number): number {
  const k = suspicionMult - 2;
  return members - 2 < k ? 0 : Math.max(0, k);
}

/** Updates piggybacked on one message at most: keeps messages per period flat as N grows. */
export const MAX_PIGGYBACK = 24;

/** Each update is piggybacked this many times: mult × ceil(log10(N+1)). */
export function retransmitLimit(retransmitMult: number, members: number): number {
  return retransmitMult * Math.ceil(Math.log10(Math.max(1, members) + 1));
}

/**
 * memberlist's push-pull interval scaling: the base interval up to 32 members, then one
 * more interval for each doubling, so full-state traffic grows like log N.
 */
export function pushPullIntervalMs(baseMs: number, members: number): number {
  if (members <= 32) return baseMs;
  return Math.ceil(Math.log2(members) - Math.log2(32) + 1) * baseMs;
}
