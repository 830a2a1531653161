/**
 * Lifeguard's local health: a score from 0 (healthy) to max − 1. A node that misses acks
 * and nacks it should have had, has to refute suspicions of itself, or finds its own
 * timers firing late, is more likely the problem than its peers are, so it stretches its
 * probe interval and timeouts by (score + 1) rather than accusing healthy members.
 */
export class Awareness {
  #score = 0;
  constructor(readonly max = 8) {}

  get score(): number {
    return this.#score;
  }

  apply(delta: number): void {
    this.#score = Math.min(this.max - 1, Math.max(0, this.#score + delta));
  }

  scale(ms: number): number {
    return ms * (this.#score + 1);
  }
}
