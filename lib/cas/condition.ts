/**
 * What a conditional write asks of the key's current state, and the quorum its two phases
 * need. Pure.
 */
import type { Entry } from "../store/store.ts";
import { compareVersions, type Version } from "../store/version.ts";

/** `If-Match: "<version>"`, `If-Match: *` (any live value) or `If-None-Match: *` (absent, deleted or expired). */
export type Condition = { match: Version } | { exists: true } | { absent: true };

/** Whether `current` (the live entry, undefined when absent or deleted) meets `condition`. */
export function conditionHolds(condition: Condition, current: Entry | undefined): boolean {
  if ("absent" in condition) return current === undefined;
  if ("exists" in condition) return current !== undefined;
  return current !== undefined && compareVersions(current.version, condition.match) === 0;
}

/**
 * Owners of a set of `n` that must promise and accept. A majority, so two proposals' quorums
 * meet (Paxos); over n − W, so a plain write that finished is seen by the prepare and
 * refuses the accept; over n − R, so a plain read sees a conditional write that finished;
 * at least max(R, W), so the ring's fence (a majority of each owner set, n − max(R, W) + 1)
 * meets every conditional write as it meets every plain one.
 */
export function casQuorum(config: { writeQuorum: number; readQuorum: number }, n: number): number {
  const { writeQuorum: w, readQuorum: r } = config;
  return Math.min(n, Math.max(Math.floor(n / 2) + 1, n - Math.min(r, w) + 1, Math.max(r, w)));
}
