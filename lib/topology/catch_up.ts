/**
 * Catching up with a later epoch than this node holds: someone named it (a notice, a SWIM
 * message, a replica's refusal), so fetch that ring from whoever named the latest epoch,
 * then from the owners it knows. One fetch loop at a time, chasing the latest epoch named.
 */
import type { Clock } from "../env.ts";

export interface CatchUpParts {
  clock: Pick<Clock, "setTimeout" | "clearTimeout">;
  /** The epoch this node holds. */
  epoch(): number;
  /** Members to ask when nobody named is left (the owners of the held ring, not this node). */
  owners(): string[];
  /** Asks `peer` for its ring (which is adopted if later). */
  fetch(peer: string): Promise<unknown>;
}

/** Fetches one chase may make before it gives up (a later word starts another). */
const MAX_FETCHES = 18;
/** How long a fetch may go unanswered before the next one starts beside it. */
const HEDGE_MS = 200;

export class CatchUp {
  #running: Promise<void> | undefined;
  /** The latest epoch a peer has named. */
  #wanted = 0;
  /** Who named an epoch beyond ours, and the latest each named: where to fetch from. */
  readonly #named = new Map<string, number>();

  constructor(readonly parts: CatchUpParts) {}

  /** Resolves once this node holds `epoch` or later, or after `waitMs`, or when no peer had it. */
  chase(epoch: number, from: string | undefined, waitMs: number): Promise<void> {
    const { parts } = this;
    if (epoch <= parts.epoch()) return Promise.resolve();
    if (epoch > this.#wanted) this.#wanted = epoch;
    if (from !== undefined && epoch > (this.#named.get(from) ?? 0)) this.#named.set(from, epoch);
    this.#running ??= this.#fetchUntilCaughtUp();
    return this.#within(this.#running, waitMs);
  }

  /**
   * One fetch at a time, but a fetch not answered within HEDGE_MS (a lost message, a busy
   * peer) does not hold the next: the first ring to arrive is adopted, and the chase ends
   * when every fetch it started has.
   */
  async #fetchUntilCaughtUp(): Promise<void> {
    await null; // the body runs after #running is set, so its finally clears it
    const started: Promise<unknown>[] = [];
    try {
      const asked = new Set<string>();
      for (let i = 0; i < MAX_FETCHES && this.parts.epoch() < this.#wanted; i++) {
        const peer = this.#nextSource(asked);
        if (peer === undefined) break;
        asked.add(peer);
        started.push(this.parts.fetch(peer));
        await this.#within(started.at(-1)!, HEDGE_MS);
      }
      if (this.parts.epoch() < this.#wanted) await Promise.all(started);
    } finally {
      this.#running = undefined;
    }
  }

  /** Resolves when `p` does or after `ms`, whichever is first. */
  #within(p: Promise<unknown>, ms: number): Promise<void> {
    const { clock } = this.parts;
    return new Promise<void>((resolve) => {
      const timer = clock.setTimeout(resolve, ms);
      void p.then(() => {
        clock.clearTimeout(timer);
        resolve();
      });
    });
  }

  /**
   * Chosen before each fetch, so a word that arrives meanwhile counts at once: whoever named
   * the latest epoch, else an owner not asked yet. (An owner may be the very member whose
   * death the new epoch records: asking it costs a whole timeout.)
   */
  #nextSource(asked: ReadonlySet<string>): string | undefined {
    const held = this.parts.epoch();
    let best: string | undefined;
    let bestEpoch = held;
    for (const [peer, epoch] of this.#named) {
      if (epoch <= held) this.#named.delete(peer);
      else if (epoch > bestEpoch) [best, bestEpoch] = [peer, epoch];
    }
    if (best !== undefined) {
      this.#named.delete(best);
      return best;
    }
    return this.parts.owners().find((id) => !asked.has(id));
  }
}
