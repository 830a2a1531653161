/**
 * What the store knows of each key besides its bytes, one typed array per field indexed by
 * the key's slot: a few dozen bytes a key and no object per entry, so a million keys are
 * nothing for the garbage collector to walk. Slots of removed keys are used again.
 *
 * Strings that many entries share (the writer's node id, the content type) are held once,
 * counted, in `Interned`.
 */
import { NO_SLAB } from "./slabs.ts";

/** `flags` bits. */
export const TOMBSTONE = 1;
/** The entry has an expiry (kept beside the columns: few entries do). */
export const EXPIRES = 2;
/** The version is a conditional write's: its step and ballot are kept beside the columns. */
export const CHAINED = 4;

export class SlotColumns {
  /** Slots handed out so far; those below it are in use or in `#free`. */
  count = 0;
  readonly #free: number[] = [];
  /** The record's slab, `NO_SLAB` for a free slot. */
  slab = new Uint32Array(0);
  offset = new Uint32Array(0);
  /** The key's index hash, kept to grow the index without reading keys. */
  hash = new Uint32Array(0);
  wall = new Float64Array(0);
  logical = new Uint32Array(0);
  writer = new Uint32Array(0);
  contentType = new Uint32Array(0);
  flags = new Uint8Array(0);

  get capacity(): number {
    return this.slab.length;
  }

  allocate(): number {
    const reused = this.#free.pop();
    if (reused !== undefined) return reused;
    if (this.count === this.capacity) this.#grow(Math.max(1024, this.capacity * 2));
    return this.count++;
  }

  release(slot: number): void {
    this.slab[slot] = NO_SLAB;
    this.flags[slot] = 0;
    this.#free.push(slot);
  }

  inUse(slot: number): boolean {
    return this.slab[slot] !== NO_SLAB;
  }

  #grow(capacity: number): void {
    const grown = <T extends Uint8Array | Uint32Array | Float64Array>(old: T, make: (n: number) => T): T => {
      const next = make(capacity);
      next.set(old as never);
      return next;
    };
    this.slab = grown(this.slab, (n) => new Uint32Array(n).fill(NO_SLAB));
    this.offset = grown(this.offset, (n) => new Uint32Array(n));
    this.hash = grown(this.hash, (n) => new Uint32Array(n));
    this.wall = grown(this.wall, (n) => new Float64Array(n));
    this.logical = grown(this.logical, (n) => new Uint32Array(n));
    this.writer = grown(this.writer, (n) => new Uint32Array(n));
    this.contentType = grown(this.contentType, (n) => new Uint32Array(n));
    this.flags = grown(this.flags, (n) => new Uint8Array(n));
  }
}

/** Strings held once and counted: each entry keeps a number, not a string. */
export class Interned {
  readonly #ids = new Map<string, number>();
  readonly #strings: string[] = [];
  readonly #uses: number[] = [];
  readonly #free: number[] = [];

  /** The id of `s`, counting one more use of it. */
  take(s: string): number {
    let id = this.#ids.get(s);
    if (id === undefined) {
      id = this.#free.pop() ?? this.#strings.length;
      this.#ids.set(s, id);
      this.#strings[id] = s;
      this.#uses[id] = 0;
    }
    this.#uses[id]!++;
    return id;
  }

  get(id: number): string {
    return this.#strings[id]!;
  }

  /** One use of `id` ends; the string is forgotten with its last. */
  release(id: number): void {
    if (--this.#uses[id]! > 0) return;
    this.#ids.delete(this.#strings[id]!);
    this.#strings[id] = "";
    this.#free.push(id);
  }

  get size(): number {
    return this.#ids.size;
  }
}
