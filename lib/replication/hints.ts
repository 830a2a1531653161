/**
 * Hinted handoff's store: writes a coordinator could not deliver to a replica, kept to be
 * replayed when the replica is reachable again. One hint per (replica, key), the newest
 * version winning; bounded in count and bytes, the oldest hints dropped first. Hints never
 * count toward a write's W: they only help a replica catch up sooner than read repair or
 * anti-entropy would.
 */
import type { Entry } from "../store/store.ts";
import { keyBytes } from "../store/store.ts";
import { compareVersions } from "../store/version.ts";

export interface Hint {
  peer: string;
  key: string;
  entry: Entry;
}

export class HintStore {
  /** `peer\u0000key` → hint, in insertion order (oldest first). */
  readonly #hints = new Map<string, Hint>();
  #bytes = 0;
  dropped = 0;

  constructor(readonly maxHints = 10_000, readonly maxBytes = 64 * 1024 * 1024) {}

  get size(): number {
    return this.#hints.size;
  }

  get bytes(): number {
    return this.#bytes;
  }

  add(peer: string, key: string, entry: Entry): void {
    const id = `${peer}\u0000${key}`;
    const existing = this.#hints.get(id);
    if (existing && compareVersions(existing.entry.version, entry.version) >= 0) return;
    if (existing) this.#remove(id, existing);
    this.#hints.set(id, { peer, key, entry });
    this.#bytes += size(key, entry);
    while (this.#hints.size > this.maxHints || this.#bytes > this.maxBytes) {
      const [oldestId, oldest] = this.#hints.entries().next().value!;
      this.#remove(oldestId, oldest);
      this.dropped++;
    }
  }

  /** Removes and returns every hint for `peer`. */
  take(peer: string): Hint[] {
    const taken: Hint[] = [];
    for (const [id, hint] of this.#hints) {
      if (hint.peer !== peer) continue;
      taken.push(hint);
      this.#remove(id, hint);
    }
    return taken;
  }

  /** Hints waiting, per replica. */
  perPeer(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const h of this.#hints.values()) counts[h.peer] = (counts[h.peer] ?? 0) + 1;
    return counts;
  }

  /** The replicas that have hints waiting. */
  peers(): string[] {
    return [...new Set([...this.#hints.values()].map((h) => h.peer))];
  }

  #remove(id: string, hint: Hint): void {
    this.#hints.delete(id);
    this.#bytes -= size(hint.key, hint.entry);
  }
}

function size(key: string, entry: Entry): number {
  return keyBytes(key) + entry.value.byteLength + 64;
}
