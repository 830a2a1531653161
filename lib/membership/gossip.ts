/**
 * The transmit-limited broadcast queue: membership updates waiting to be piggybacked.
 *
 * Each update rides on at most `limit` outgoing messages, fewest-sent first, so fresh news
 * spreads fastest and old news stops travelling after about mult × log(N) sends. One entry
 * per member: a newer update about a member replaces the older one. Bounded in size.
 * Updates marked urgent (a member suspect, dead or left, or back from that) are counted, so
 * that gossip rounds of their own (broadcast.ts) run only while there are some.
 */
import type { Update } from "./member.ts";

interface Queued {
  update: Update;
  transmits: number;
  urgent: boolean;
  /** Insertion order, to break ties among equally-sent updates: newest first. */
  seq: number;
}

export class GossipQueue {
  readonly #items = new Map<string, Queued>();
  #seq = 0;
  #urgent = 0;

  constructor(readonly maxItems = 4096) {}

  get size(): number {
    return this.#items.size;
  }

  /** Updates marked urgent still waiting to be sent. */
  get urgent(): number {
    return this.#urgent;
  }

  enqueue(update: Update, urgent = false): void {
    const replaced = this.#items.get(update.id);
    if (replaced) this.#delete(replaced);
    this.#items.set(update.id, { update, transmits: 0, urgent, seq: this.#seq++ });
    if (urgent) this.#urgent++;
    if (this.#items.size > this.maxItems) this.#evictMostSent();
  }

  /**
   * Up to `maxCount` updates for one outgoing message, fewest-sent first; each counts as
   * sent once, and leaves the queue when it has been sent `limit` times.
   */
  take(maxCount: number, limit: number): Update[] {
    if (this.#items.size === 0 || maxCount <= 0) return [];
    const chosen = this.#best(maxCount);
    for (const item of chosen) {
      item.transmits++;
      if (item.transmits >= limit) this.#delete(item);
    }
    return chosen.map((item) => item.update);
  }

  /**
   * The `count` items that go first, in order, picked in one pass: the queue holds one entry
   * per member (thousands while a cluster forms), and one is taken for every message sent.
   */
  #best(count: number): Queued[] {
    const before = (a: Queued, b: Queued) => a.transmits < b.transmits || (a.transmits === b.transmits && a.seq > b.seq);
    const best: Queued[] = [];
    for (const item of this.#items.values()) {
      if (best.length === count && !before(item, best[count - 1]!)) continue;
      let i = Math.min(best.length, count - 1);
      if (best.length < count) best.push(item);
      while (i > 0 && before(item, best[i - 1]!)) {
        best[i] = best[i - 1]!;
        i--;
      }
      best[i] = item;
    }
    return best;
  }

  #evictMostSent(): void {
    let worst: Queued | undefined;
    for (const item of this.#items.values()) {
      if (!worst || item.transmits > worst.transmits || (item.transmits === worst.transmits && item.seq < worst.seq)) {
        worst = item;
      }
    }
    if (worst) this.#delete(worst);
  }

  #delete(item: Queued): void {
    this.#items.delete(item.update.id);
    if (item.urgent) this.#urgent--;
  }
}
