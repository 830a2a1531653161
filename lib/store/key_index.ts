/**
 * Key → slot, as an open-addressing table of slot numbers (linear probing, at most 3/4 full,
 * deletions shift later entries back rather than leaving markers). Four bytes a slot
 * against a Map's entry and a string per key; the keys themselves stay in the slabs, and
 * the store says whether a slot holds a given key.
 */

const EMPTY = -1;

export interface IndexedKeys {
  /** The index hash of `slot`'s key. */
  hashOf(slot: number): number;
  /** Whether `slot` holds the key in `len` bytes of `bytes`. */
  holdsKey(slot: number, bytes: Uint8Array, len: number): boolean;
}

export class KeyIndex {
  #table = new Int32Array(1024).fill(EMPTY);
  #size = 0;

  constructor(private readonly keys: IndexedKeys) {}

  /** The slot holding the key, or -1. */
  find(hash: number, bytes: Uint8Array, len: number): number {
    const table = this.#table;
    const mask = table.length - 1;
    for (let i = hash & mask; ; i = (i + 1) & mask) {
      const slot = table[i]!;
      if (slot === EMPTY) return EMPTY;
      if (this.keys.hashOf(slot) === hash && this.keys.holdsKey(slot, bytes, len)) return slot;
    }
  }

  /** Adds `slot`, whose key is not in the table. */
  insert(hash: number, slot: number): void {
    if ((this.#size + 1) * 4 > this.#table.length * 3) this.#grow();
    this.#place(this.#table, hash, slot);
    this.#size++;
  }

  remove(slot: number): void {
    const table = this.#table;
    const mask = table.length - 1;
    let i = this.keys.hashOf(slot) & mask;
    while (table[i] !== slot) {
      if (table[i] === EMPTY) return;
      i = (i + 1) & mask;
    }
    // Backward shift: each later entry of the run moves into the hole if the hole lies
    // between its home and where it sits, so no lookup ever stops short of it.
    for (let j = (i + 1) & mask; table[j] !== EMPTY; j = (j + 1) & mask) {
      const home = this.keys.hashOf(table[j]!) & mask;
      if (((j - home) & mask) >= ((j - i) & mask)) {
        table[i] = table[j]!;
        i = j;
      }
    }
    table[i] = EMPTY;
    this.#size--;
  }

  get size(): number {
    return this.#size;
  }

  #grow(): void {
    const old = this.#table;
    const table = new Int32Array(old.length * 2).fill(EMPTY);
    for (let i = 0; i < old.length; i++) if (old[i] !== EMPTY) this.#place(table, this.keys.hashOf(old[i]!), old[i]!);
    this.#table = table;
  }

  #place(table: Int32Array, hash: number, slot: number): void {
    const mask = table.length - 1;
    let i = hash & mask;
    while (table[i] !== EMPTY) i = (i + 1) & mask;
    table[i] = slot;
  }
}
