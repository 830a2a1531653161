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

  /**
   * A score of 3 or more: this node's own links are the likelier fault, so it accuses nobody,
   * checks its links instead of probing (probe.ts) and holds accusations of itself rather
   * than refute them (own_word.ts). Each answered ping of that check takes 1 off and each
   * miss adds 1, so from the top a node needs five more answers than misses: a healed link
   * gets there within two periods, one that loses 80% each way (a ping answered 4% of the
   * time) practically never.
   */
  get unwell(): boolean {
    return this.#score >= 3;
  }

  apply(delta: number): void {
    this.#score = Math.min(this.max - 1, Math.max(0, this.#score + delta));
  }

  scale(ms: number): number {
    return ms * (this.#score + 1);
  }
}
