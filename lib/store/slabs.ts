/**
 * Where the store's bytes live: records of (slot, key, value) appended to large shared
 * buffers, so a million values cost a million runs of bytes rather than a million buffer
 * objects with their headers and allocator slack.
 *
 * A record is never written over: a new value for a key is a new record, and the old one is
 * only counted dead. That is what makes a value handed out as a view into a slab safe to
 * hold across awaits (a response being written, a page being sent). A slab that is at least
 * half dead, and is not the one being filled, is compacted: its live records are copied to
 * the current slab and the slab is let go, to be freed once no view holds it. Each record
 * names its slot, so compaction asks the owner (`Relocation`) whether the slot still points
 * at the record, and tells it where the record went.
 *
 * Record layout: slot (u32), key length (u16: a key is at most 4,096 characters, 12 KiB of
 * UTF-8, lib/wire/fields.ts), value length (u32), key bytes, value bytes.
 */

import { compareKeyBytes, decodeKeyBytes, hasPrefix } from "./key_bytes.ts";

export const SLAB_BYTES = 1 << 20;
/** Records this big get a slab of their own, freed as soon as they die. */
const OWN_SLAB_FROM = SLAB_BYTES >> 4;
const HEADER = 10;
/** No record: a slot being rewritten or free. */
export const NO_SLAB = 0xffff_ffff;

export interface Relocation {
  /** Whether `slot`'s record is the one at (`slab`, `offset`). */
  holds(slot: number, slab: number, offset: number): boolean;
  /** `slot`'s record now lives at (`slab`, `offset`). */
  moved(slot: number, slab: number, offset: number): void;
}

export class Slabs {
  readonly #slabs: Array<Uint8Array | undefined> = [];
  readonly #used: number[] = [];
  readonly #dead: number[] = [];
  /** Slab numbers let go, to be used again. */
  readonly #spare: number[] = [];
  /** Slabs at least half dead, waiting for compaction (which may itself fill a slab). */
  readonly #toCompact: number[] = [];
  readonly #queued = new Set<number>();
  #current = -1;
  #compacting = false;
  /** Where the last `append` put its record. */
  slab = 0;
  offset = 0;

  constructor(private readonly owner: Relocation) {}

  /** Appends `slot`'s record; its place is then in `slab` and `offset`. */
  append(slot: number, key: Uint8Array, keyOff: number, keyLen: number, value: Uint8Array): void {
    const size = HEADER + keyLen + value.byteLength;
    let slab: number;
    if (size >= OWN_SLAB_FROM) slab = this.#open(size);
    else {
      if (this.#current < 0 || this.#used[this.#current]! + size > SLAB_BYTES) this.#roll();
      slab = this.#current;
    }
    const bytes = this.#slabs[slab]!;
    const at = this.#used[slab]!;
    writeU32(bytes, at, slot);
    bytes[at + 4] = keyLen & 0xff;
    bytes[at + 5] = keyLen >>> 8;
    writeU32(bytes, at + 6, value.byteLength);
    bytes.set(key.subarray(keyOff, keyOff + keyLen), at + HEADER);
    bytes.set(value, at + HEADER + keyLen);
    this.#used[slab] = at + size;
    this.slab = slab;
    this.offset = at;
    if (this.#toCompact.length > 0) this.#compactWaiting();
  }

  /** Orders the key in `len` bytes of `bytes` from `off` against the record's key. */
  compareKey(bytes: Uint8Array, off: number, len: number, slab: number, offset: number): number {
    return compareKeyBytes(bytes, off, len, this.#slabs[slab]!, offset + HEADER, this.keyLength(slab, offset));
  }

  keyHasPrefix(slab: number, offset: number, prefix: Uint8Array): boolean {
    return hasPrefix(this.#slabs[slab]!, offset + HEADER, this.keyLength(slab, offset), prefix);
  }

  /** The record's key bytes, as a view into its slab. */
  keyView(slab: number, offset: number): Uint8Array {
    return this.#slabs[slab]!.subarray(offset + HEADER, offset + HEADER + this.keyLength(slab, offset));
  }

  /** `read` over the record's key bytes where they lie: no view is made. */
  readKey<T>(slab: number, offset: number, read: (bytes: Uint8Array, from: number, length: number) => T): T {
    return read(this.#slabs[slab]!, offset + HEADER, this.keyLength(slab, offset));
  }

  key(slab: number, offset: number): string {
    return decodeKeyBytes(this.#slabs[slab]!, offset + HEADER, this.keyLength(slab, offset));
  }

  keyLength(slab: number, offset: number): number {
    const bytes = this.#slabs[slab]!;
    return bytes[offset + 4]! | (bytes[offset + 5]! << 8);
  }

  valueLength(slab: number, offset: number): number {
    return readU32(this.#slabs[slab]!, offset + 6);
  }

  /** The record's value, as a view into its slab (never written over). */
  value(slab: number, offset: number): Uint8Array {
    const start = offset + HEADER + this.keyLength(slab, offset);
    return this.#slabs[slab]!.subarray(start, start + this.valueLength(slab, offset));
  }

  /** The record at (`slab`, `offset`) is no longer anyone's. */
  release(slab: number, offset: number): void {
    this.#dead[slab]! += HEADER + this.keyLength(slab, offset) + this.valueLength(slab, offset);
    if (slab !== this.#current && this.#dead[slab]! * 2 >= this.#used[slab]!) {
      this.#queue(slab);
      this.#compactWaiting();
    }
  }

  /** Slabs held, and the bytes they hold (live and dead), for metrics. */
  stats(): { slabs: number; bytes: number } {
    const held = this.#slabs.filter((slab) => slab !== undefined);
    return { slabs: held.length, bytes: held.reduce((sum, slab) => sum + slab.byteLength, 0) };
  }

  #roll(): void {
    const last = this.#current;
    this.#current = this.#open(SLAB_BYTES);
    if (last >= 0 && this.#dead[last]! * 2 >= this.#used[last]!) this.#queue(last);
  }

  #queue(slab: number): void {
    if (this.#queued.has(slab)) return;
    this.#queued.add(slab);
    this.#toCompact.push(slab);
  }

  #open(size: number): number {
    const slab = this.#spare.pop() ?? this.#slabs.length;
    this.#slabs[slab] = new Uint8Array(size);
    this.#used[slab] = 0;
    this.#dead[slab] = 0;
    return slab;
  }

  /**
   * Copies the live records of each waiting slab to the current one, then lets it go. Runs
   * at the end of an `append` or `release`, and leaves `slab` and `offset` naming what that
   * append wrote.
   */
  #compactWaiting(): void {
    if (this.#compacting) return;
    this.#compacting = true;
    const { slab: appended, offset: appendedAt } = this;
    try {
      for (let slab = this.#toCompact.pop(); slab !== undefined; slab = this.#toCompact.pop()) {
        this.#queued.delete(slab);
        const bytes = this.#slabs[slab];
        if (!bytes || slab === this.#current) continue;
        const used = this.#used[slab]!;
        for (let at = 0; at < used; ) {
          const slot = readU32(bytes, at);
          const keyLen = this.keyLength(slab, at);
          const size = HEADER + keyLen + this.valueLength(slab, at);
          if (this.owner.holds(slot, slab, at)) {
            this.append(slot, bytes, at + HEADER, keyLen, bytes.subarray(at + HEADER + keyLen, at + size));
            this.owner.moved(slot, this.slab, this.offset);
          }
          at += size;
        }
        this.#slabs[slab] = undefined;
        this.#spare.push(slab);
      }
    } finally {
      this.#compacting = false;
      this.slab = appended;
      this.offset = appendedAt;
    }
  }
}

function writeU32(bytes: Uint8Array, at: number, n: number): void {
  bytes[at] = n & 0xff;
  bytes[at + 1] = (n >>> 8) & 0xff;
  bytes[at + 2] = (n >>> 16) & 0xff;
  bytes[at + 3] = n >>> 24;
}

function readU32(bytes: Uint8Array, at: number): number {
  return (bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24)) >>> 0;
}
