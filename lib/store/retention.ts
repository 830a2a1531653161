/**
 * What the store removes by itself in time: tombstones, a grace period after this replica
 * stored them, and entries that expired, a grace period after their expiry (a replica that
 * missed the write or the delete had that long to be repaired: Cassandra's gc_grace).
 * Kept beside the slot columns, by slot: few entries are either.
 */
export class Retention {
  /** Tombstoned slots → when this replica stored the tombstone, oldest first (insertion order). */
  readonly #tombstonedAt = new Map<number, number>();
  /** Slots whose entry has an expiry → when (not ordered: expiries are any time ahead). */
  readonly #expires = new Map<number, number>();

  get tombstones(): number {
    return this.#tombstonedAt.size;
  }

  tombstoned(slot: number, at: number): void {
    this.#tombstonedAt.set(slot, at);
  }

  expiring(slot: number, expires: number): void {
    this.#expires.set(slot, expires);
  }

  expiryOf(slot: number): number | undefined {
    return this.#expires.get(slot);
  }

  /** The slot holds something else now, or nothing. */
  forget(slot: number): void {
    this.#tombstonedAt.delete(slot);
    this.#expires.delete(slot);
  }

  /** Slots whose tombstone was stored at `cutoff` or before, oldest first; each may be forgotten as it is handed out. */
  *tombstonedBy(cutoff: number): IterableIterator<number> {
    for (const [slot, storedAt] of this.#tombstonedAt) {
      if (storedAt > cutoff) return;
      yield slot;
    }
  }

  /** Slots whose entry expired at `cutoff` or before: every expiring slot is looked at, their expiries being in no order. */
  *expiredBy(cutoff: number): IterableIterator<number> {
    for (const [slot, expires] of this.#expires) if (expires <= cutoff) yield slot;
  }
}
