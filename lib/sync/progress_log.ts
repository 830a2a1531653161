/**
 * A stabilisation round that runs long says where it is in the log: after
 * PROGRESS_AFTER_MS, then every PROGRESS_EVERY_MS, until it ends or another round starts.
 */
import type { Env } from "../env.ts";
import type { Round } from "./round.ts";

const PROGRESS_AFTER_MS = 3_000;
const PROGRESS_EVERY_MS = 2_000;

export class ProgressLog {
  #timer: unknown;

  constructor(readonly env: Pick<Env, "clock" | "log">) {}

  /** Logs `round`'s progress while it is still `current()`. */
  start(round: Round, current: () => Round | undefined): void {
    const { clock, log } = this.env;
    const tick = () => {
      this.#timer = undefined;
      if (current() !== round) return;
      const { transfers, etaMs, ...p } = round.view();
      // The round's time left: its scan's, or its slowest transfer's, whichever is longer.
      const left = [etaMs, ...transfers.map((t) => t.etaMs)].filter((x): x is number => x !== undefined);
      const eta = left.length === 0 ? "unknown" : `${(Math.max(...left) / 1000).toFixed(1)} s`;
      log.info("stabilisation progress", { ...p, keysWanted: round.total("keysWanted"), eta, peers: transfers.length });
      this.#timer = clock.setTimeout(tick, PROGRESS_EVERY_MS);
    };
    this.#timer = clock.setTimeout(tick, PROGRESS_AFTER_MS);
  }

  stop(): void {
    if (this.#timer !== undefined) this.env.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
