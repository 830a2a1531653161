/** Quorum arithmetic and read resolution: pure functions over replies. */
import type { Entry } from "../store/store.ts";
import { compareVersions, type Version } from "../store/version.ts";

export type Consistency = "one" | "quorum" | "all";

export interface QuorumErrorDetail {
  epoch?: number;
  owners?: readonly string[];
  answeredBy?: string[];
  /** The key's range lost a quorum of its owners: it waits for them, or for `mod.ts recover`. */
  quorumLost?: true;
  range?: string;
  dead?: string[];
  since?: string;
  recover?: string;
}

/** Fewer replicas answered (or stored) than the operation needs: a 503 with the counts. */
export class QuorumError extends Error {
  override name = "QuorumError";
  constructor(
    readonly operation: string,
    readonly answered: number,
    readonly needed: number,
    /** Who was asked (the key's owners in `epoch`) and, for reads, who answered; for a range that lost its quorum, that. */
    readonly detail: QuorumErrorDetail = {},
  ) {
    super(`${operation}: ${answered} of ${needed} required replicas answered`);
  }
}

export interface QuorumSizes {
  /** Replicas the key lives on: N, or fewer while the cluster is smaller. */
  n: number;
  w: number;
  r: number;
}

/**
 * N, W and R for a key whose preference list has `available` members: never more than the
 * members there are, so a node alone is a cluster of one. `consistency` overrides W and R
 * for one request: `one` (1), `quorum` (the configured values) or `all` (every replica).
 */
export function quorumSizes(
  config: { replicas: number; writeQuorum: number; readQuorum: number },
  available: number,
  consistency: Consistency = "quorum",
): QuorumSizes {
  const n = Math.min(config.replicas, available);
  if (consistency === "one") return { n, w: Math.min(1, n), r: Math.min(1, n) };
  if (consistency === "all") return { n, w: n, r: n };
  return { n, w: Math.min(config.writeQuorum, n), r: Math.min(config.readQuorum, n) };
}

/** The newest entry among replies (a replica without the key answers undefined). */
export function newest(entries: ReadonlyArray<Entry | undefined>): Entry | undefined {
  let best: Entry | undefined;
  for (const e of entries) if (e && (!best || compareVersions(e.version, best.version) > 0)) best = e;
  return best;
}

/**
 * The highest conditional write some replica accepted above `latest` (the newest stored
 * among the replies), if any: it may have been chosen and acknowledged before its commit
 * reached any store (docs/cas.md).
 */
export function pendingAbove(replies: ReadonlyArray<{ pending?: { entry: Entry } } | undefined>, latest: Entry | undefined): Version | undefined {
  let best: Version | undefined;
  for (const r of replies) {
    const v = r?.pending?.entry.version;
    if (v && (!latest || compareVersions(v, latest.version) > 0) && (!best || compareVersions(v, best) > 0)) best = v;
  }
  return best;
}

/** Whether a replica's entry is behind `latest` (missing counts as behind). */
export function isStale(entry: Entry | undefined, latest: Entry): boolean {
  return !entry || compareVersions(entry.version, latest.version) < 0;
}

/**
 * Resolves once `needed` of the promises have fulfilled with a value `ok` accepts, or once
 * all have settled; gives every value that arrived by then (rejections are undefined).
 */
export function firstSuccesses<T>(promises: ReadonlyArray<Promise<T>>, needed: number, ok: (value: T) => boolean): Promise<{ successes: number; results: Array<T | undefined> }> {
  return new Promise((resolve) => {
    const results: Array<T | undefined> = promises.map(() => undefined);
    let successes = 0;
    let settled = 0;
    let done = false;
    const finish = () => {
      if (!done) {
        done = true;
        resolve({ successes, results: [...results] });
      }
    };
    if (promises.length === 0 || needed <= 0) return finish();
    promises.forEach((p, i) => {
      p.then(
        (value) => {
          results[i] = value;
          if (ok(value)) successes++;
        },
        () => {},
      ).finally(() => {
        settled++;
        if (successes >= needed || settled === promises.length) finish();
      });
    });
  });
}

/**
 * Resolves once, in every one of `sets`, `needs[i]` members count: those in `already`, and
 * those of `peers` whose promise fulfilled with a value `ok` accepts; or once all have
 * settled. Says whether every set met its need, and for the one furthest short, how many
 * counted against how many were needed (a member in two sets counts in both).
 */
export function firstQuorums<T>(
  peers: readonly string[],
  promises: ReadonlyArray<Promise<T>>,
  sets: ReadonlyArray<readonly string[]>,
  needs: readonly number[],
  ok: (value: T) => boolean,
  already: ReadonlySet<string> = new Set(),
): Promise<{ met: boolean; counted: number; needed: number }> {
  const counts = sets.map((set) => set.filter((m) => already.has(m)).length);
  const shortest = () => {
    let worst = 0;
    for (let i = 1; i < sets.length; i++) if (needs[i]! - counts[i]! > needs[worst]! - counts[worst]!) worst = i;
    return { met: counts.every((c, i) => c >= needs[i]!), counted: counts[worst] ?? 0, needed: needs[worst] ?? 0 };
  };
  return new Promise((resolve) => {
    let settled = 0;
    let done = false;
    const check = () => {
      const s = shortest();
      if (!done && (s.met || settled === promises.length)) {
        done = true;
        resolve(s);
      }
    };
    if (promises.length === 0) return check();
    promises.forEach((p, i) => {
      p.then(
        (value) => {
          if (!ok(value)) return;
          sets.forEach((set, j) => {
            if (set.includes(peers[i]!)) counts[j]!++;
          });
        },
        () => {},
      ).finally(() => {
        settled++;
        check();
      });
    });
    check();
  });
}
