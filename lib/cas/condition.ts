/**
 * What a conditional write asks of the key's current state, the quorum its two phases
 * need, and when owners' answers show a proposal chosen. Pure.
 */
import type { Entry } from "../store/store.ts";
import { compareBallots, compareVersions, type Version } from "../store/version.ts";
import type { Pending } from "../wire/cas.ts";

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

/**
 * A proposal that `needs[i]` owners of every write set accepted at one ballot, going by
 * what each owner said it accepted: chosen, whatever happens next (Paxos), so it may be
 * stored and built on without another round. Only a ballot of the placement's own epoch
 * counts: the sets it was accepted in are then the placement's.
 */
export function chosenAmong(epoch: number, writes: ReadonlyArray<readonly string[]>, needs: readonly number[], accepted: ReadonlyMap<string, Pending>): Pending | undefined {
  for (const candidate of accepted.values()) {
    if (candidate.ballot.epoch !== epoch) continue;
    const alike = (m: string) => {
      const a = accepted.get(m);
      return a !== undefined && compareBallots(a.ballot, candidate.ballot) === 0 && compareVersions(a.entry.version, candidate.entry.version) === 0;
    };
    if (writes.every((set, i) => set.filter(alike).length >= needs[i]!)) return candidate;
  }
  return undefined;
}

/** Whether two accepted proposals are one: the same version at the same ballot. */
export function sameProposal(a: Pending | undefined, b: Pending | undefined): boolean {
  return a !== undefined && b !== undefined && compareBallots(a.ballot, b.ballot) === 0 && compareVersions(a.entry.version, b.entry.version) === 0;
}
