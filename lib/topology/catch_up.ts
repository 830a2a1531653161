/**
 * Catching up with a later epoch than this node holds: someone named it (a SWIM message, a
 * replica's refusal, a status reply), so fetch that ring from whoever named it first, then
 * from the owners it knows. One fetch loop at a time, chasing the latest epoch named.
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

/** Peers asked per round, and rounds per loop. */
const SOURCES_PER_ROUND = 6;
const ROUNDS = 3;

export class CatchUp {
  #running: Promise<void> | undefined;
  /** The latest epoch a peer has named, and who named epochs beyond ours: where to fetch from. */
  #wanted = 0;
  readonly #sources = new Set<string>();

  constructor(readonly parts: CatchUpParts) {}

  /** Resolves once this node holds `epoch` or later, or after `waitMs`, or when no peer had it. */
  chase(epoch: number, from: string | undefined, waitMs: number): Promise<void> {
    const { parts } = this;
    if (epoch <= parts.epoch()) return Promise.resolve();
    if (epoch > this.#wanted) this.#wanted = epoch;
    if (from) this.#sources.add(from);
    if (!this.#running) {
      this.#running = (async () => {
        await null; // the body runs after #running is set, so its finally clears it
        try {
          for (let round = 0; round < ROUNDS && parts.epoch() < this.#wanted; round++) {
            const named = [...this.#sources];
            this.#sources.clear();
            for (const peer of [...new Set([...named, ...parts.owners()])].slice(0, SOURCES_PER_ROUND)) {
              await parts.fetch(peer);
              if (parts.epoch() >= this.#wanted) return;
            }
          }
        } finally {
          this.#running = undefined;
        }
      })();
    }
    const running = this.#running!;
    return new Promise<void>((resolve) => {
      const timer = parts.clock.setTimeout(resolve, waitMs);
      void running.then(() => {
        parts.clock.clearTimeout(timer);
        resolve();
      });
    });
  }
}
