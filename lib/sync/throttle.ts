/**
 * A byte-rate limit for data moving between nodes, so stabilisation never starves client
 * traffic: each send first waits until the bytes it carries fit under the rate. A token
 * bucket holding at most one second's worth, on the injected clock.
 */
import type { Clock } from "../env.ts";

export class Throttle {
  #tokens: number;
  #refilledAt: number;

  constructor(private readonly clock: Clock, private readonly bytesPerSec: number) {
    this.#tokens = bytesPerSec;
    this.#refilledAt = clock.monotonicMs();
  }

  /** Resolves when `bytes` may be sent (at once while the bucket holds enough). */
  async take(bytes: number): Promise<void> {
    this.#refill();
    this.#tokens -= bytes;
    if (this.#tokens >= 0) return;
    const waitMs = Math.ceil((-this.#tokens / this.bytesPerSec) * 1000);
    await new Promise<void>((resolve) => this.clock.setTimeout(resolve, waitMs));
  }

  #refill(): void {
    const now = this.clock.monotonicMs();
    this.#tokens = Math.min(this.bytesPerSec, this.#tokens + ((now - this.#refilledAt) / 1000) * this.bytesPerSec);
    this.#refilledAt = now;
  }
}
