/**
 * The keys a store holds, in order: sorted chunks of at most CHUNK keys, so adding or
 * removing a key moves at most a chunk's worth of references and a range scan starts with
 * two binary searches. What lets a listing page cost its page, not the store.
 */

const CHUNK = 512;

export class SortedKeys {
  /** Non-empty sorted chunks; every key of a chunk sorts before every key of the next. */
  readonly #chunks: string[][] = [];
  #size = 0;

  get size(): number {
    return this.#size;
  }

  add(key: string): void {
    if (this.#chunks.length === 0) {
      this.#chunks.push([key]);
      this.#size = 1;
      return;
    }
    const c = this.#chunkFor(key);
    const chunk = this.#chunks[c]!;
    const i = lowerBound(chunk, key);
    if (chunk[i] === key) return;
    chunk.splice(i, 0, key);
    this.#size++;
    if (chunk.length > CHUNK * 2) this.#chunks.splice(c, 1, chunk.slice(0, CHUNK), chunk.slice(CHUNK));
  }

  delete(key: string): void {
    if (this.#chunks.length === 0) return;
    const c = this.#chunkFor(key);
    const chunk = this.#chunks[c]!;
    const i = lowerBound(chunk, key);
    if (chunk[i] !== key) return;
    chunk.splice(i, 1);
    this.#size--;
    if (chunk.length === 0) this.#chunks.splice(c, 1);
  }

  /** Keys after `after` (all when undefined) that start with `prefix`, in order. */
  *from(prefix: string, after?: string): IterableIterator<string> {
    const start = after !== undefined && after >= prefix ? after : prefix;
    for (let c = this.#chunks.length === 0 ? 0 : this.#chunkFor(start); c < this.#chunks.length; c++) {
      const chunk = this.#chunks[c]!;
      for (let i = lowerBound(chunk, start); i < chunk.length; i++) {
        const key = chunk[i]!;
        if (key === after) continue;
        if (!key.startsWith(prefix)) return;
        yield key;
      }
    }
  }

  /** The chunk `key` belongs in: the last whose first key is not after it. */
  #chunkFor(key: string): number {
    let lo = 0;
    let hi = this.#chunks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.#chunks[mid]![0]! <= key) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }
}

function lowerBound(sorted: readonly string[], key: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
