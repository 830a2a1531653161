/**
 * The store's keys in order, for listings: sorted chunks of at most CHUNK slot numbers, so
 * adding or removing a key moves at most a chunk of four-byte numbers and a page starts with
 * two binary searches. What lets a listing page cost its page, not the store. The keys are
 * compared where they live (the slabs), through `OrderedKeys`.
 */

const CHUNK = 1024;

export interface OrderedKeys {
  /** Orders the key in `len` bytes of `bytes` from `off` against `slot`'s key (key_bytes.ts). */
  compareWith(bytes: Uint8Array, off: number, len: number, slot: number): number;
  /** Whether `slot`'s key starts with `prefix`. */
  startsWith(slot: number, prefix: Uint8Array): boolean;
}

export class KeyOrder {
  /** Non-empty chunks, each sorted; every key of a chunk sorts before every key of the next. */
  readonly #chunks: Uint32Array[] = [];
  readonly #lengths: number[] = [];
  #size = 0;

  constructor(private readonly keys: OrderedKeys) {}

  get size(): number {
    return this.#size;
  }

  /** Adds `slot`, whose key (in `len` bytes of `bytes` from `off`) is not here yet. */
  add(slot: number, bytes: Uint8Array, off: number, len: number): void {
    if (this.#chunks.length === 0) {
      this.#chunks.push(new Uint32Array(CHUNK));
      this.#lengths.push(0);
    }
    let c = this.#chunkFor(bytes, off, len);
    let i = this.#lowerBound(c, bytes, off, len);
    if (this.#lengths[c] === CHUNK) {
      // Keys added in order (the usual bulk load) fill chunks to the brim: a new chunk when
      // the full one was the last and the key goes at its end, halves otherwise.
      const last = c === this.#chunks.length - 1 && i === CHUNK;
      const next = new Uint32Array(CHUNK);
      const keep = last ? CHUNK : CHUNK / 2;
      next.set(this.#chunks[c]!.subarray(keep));
      this.#chunks.splice(c + 1, 0, next);
      this.#lengths.splice(c + 1, 0, CHUNK - keep);
      this.#lengths[c] = keep;
      if (i >= keep) {
        c++;
        i -= keep;
      }
    }
    const chunk = this.#chunks[c]!;
    chunk.copyWithin(i + 1, i, this.#lengths[c]!);
    chunk[i] = slot;
    this.#lengths[c]!++;
    this.#size++;
  }

  /** Removes `slot`, whose key is in `len` bytes of `bytes` from `off`. */
  remove(slot: number, bytes: Uint8Array, off: number, len: number): void {
    if (this.#chunks.length === 0) return;
    const c = this.#chunkFor(bytes, off, len);
    const i = this.#lowerBound(c, bytes, off, len);
    const chunk = this.#chunks[c]!;
    if (i >= this.#lengths[c]! || chunk[i] !== slot) return;
    chunk.copyWithin(i, i + 1, this.#lengths[c]!);
    this.#lengths[c]!--;
    this.#size--;
    if (this.#lengths[c] === 0 && this.#chunks.length > 1) {
      this.#chunks.splice(c, 1);
      this.#lengths.splice(c, 1);
    }
  }

  /**
   * Slots whose keys start with `prefix`, from the first not before `start` (skipping one
   * equal to it when `afterStart`), in order.
   */
  *from(prefix: Uint8Array, start: Uint8Array, afterStart: boolean): IterableIterator<number> {
    if (this.#size === 0) return;
    const first = this.#chunkFor(start, 0, start.length);
    for (let c = first; c < this.#chunks.length; c++) {
      const chunk = this.#chunks[c]!;
      const length = this.#lengths[c]!;
      for (let i = c === first ? this.#lowerBound(c, start, 0, start.length) : 0; i < length; i++) {
        const slot = chunk[i]!;
        if (afterStart && this.keys.compareWith(start, 0, start.length, slot) === 0) continue;
        if (!this.keys.startsWith(slot, prefix)) return;
        yield slot;
      }
    }
  }

  /** The chunk a key belongs in: the last whose first key is not after it. */
  #chunkFor(bytes: Uint8Array, off: number, len: number): number {
    let lo = 0;
    let hi = this.#chunks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.keys.compareWith(bytes, off, len, this.#chunks[mid]![0]!) >= 0) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** In chunk `c`, the first position whose key is not before the given one. */
  #lowerBound(c: number, bytes: Uint8Array, off: number, len: number): number {
    const chunk = this.#chunks[c]!;
    let lo = 0;
    let hi = this.#lengths[c]!;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.keys.compareWith(bytes, off, len, chunk[mid]!) > 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
