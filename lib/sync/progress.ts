/**
 * How far a stabilisation round has got, for /cluster/sync, the dashboard and the log: the
 * pass it is in, keys seen of the store, and from the rate so far, the time the pass has
 * left. Pure arithmetic over what the round counts.
 */

export type Pass = "hand-off" | "streaming" | "anti-entropy";

export interface ProgressView {
  pass: Pass;
  keysSeen: number;
  keysTotal: number;
  /** Of the current pass, 0-100. */
  percent: number;
  elapsedMs: number;
  keysPushedPerSec: number;
  bytesPushedPerSec: number;
  /** The current pass's time left at its rate so far; undefined until it has a rate. */
  etaMs?: number;
}

/** Time left for `total - seen` at the rate `seen` took `elapsedMs`; undefined without a rate. */
export function etaMs(seen: number, total: number, elapsedMs: number): number | undefined {
  if (seen <= 0 || elapsedMs <= 0) return undefined;
  return Math.max(0, Math.round(((total - seen) * elapsedMs) / seen));
}

export const perSecond = (n: number, elapsedMs: number) => (elapsedMs > 0 ? Math.round((n * 1000) / elapsedMs) : 0);

export class Progress {
  pass: Pass = "hand-off";
  seen = 0;
  total = 0;
  #passStartedAt: number;

  constructor(readonly startedAt: number) {
    this.#passStartedAt = startedAt;
  }

  begin(pass: Pass, total: number, now: number): void {
    this.pass = pass;
    this.total = total;
    this.seen = 0;
    this.#passStartedAt = now;
  }

  view(now: number, pushed: { keys: number; bytes: number }): ProgressView {
    const elapsedMs = now - this.startedAt;
    const eta = etaMs(this.seen, this.total, now - this.#passStartedAt);
    return {
      pass: this.pass,
      keysSeen: this.seen,
      keysTotal: this.total,
      percent: this.total > 0 ? Math.min(100, Math.round((this.seen * 100) / this.total)) : 100,
      elapsedMs: Math.round(elapsedMs),
      keysPushedPerSec: perSecond(pushed.keys, elapsedMs),
      bytesPushedPerSec: perSecond(pushed.bytes, elapsedMs),
      ...(eta === undefined ? {} : { etaMs: eta }),
    };
  }
}
