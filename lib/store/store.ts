/**
 * The node's in-memory replica: key → newest entry it has accepted.
 *
 * A replica accepts an entry only when its version is newer than what it holds, and says
 * what it holds when it refuses; that one rule is what lets the coordinator order writes
 * without trusting clocks. Deletes are tombstones: entries with no value that win over
 * older writes, and are purged once their grace period has passed. An entry written with a
 * time to live carries its expiry (`expires`, wall-clock ms): it is served by no one after
 * that (replication/read.ts, `live`), and purged like a tombstone a grace period later.
 *
 * How it is held (docs/store.md): each key has a slot. Its key and value bytes are a record
 * in the slabs (slabs.ts), its version and flags sit in typed arrays by slot (slots.ts), an
 * open-addressing table finds a key's slot (key_index.ts) and sorted chunks of slots give
 * listings their order (key_order.ts). No object exists per entry: an `Entry` is built when
 * one is read, its value a view into a slab.
 */
import { hashKeyBytes, KeyScratch, utf8 } from "./key_bytes.ts";
import { KeyIndex } from "./key_index.ts";
import { KeyOrder } from "./key_order.ts";
import { Retention } from "./retention.ts";
import { NO_SLAB, Slabs } from "./slabs.ts";
import { CHAINED, EXPIRES, Interned, SlotColumns, TOMBSTONE } from "./slots.ts";
import { type Ballot, compareVersions, isNewer, type Version } from "./version.ts";

export { keyBytes } from "./key_bytes.ts";

export interface Entry {
  value: Uint8Array;
  contentType: string;
  version: Version;
  tombstone: boolean;
  /** When the value stops being served (ms since the epoch, the writing coordinator's clock); absent: never. */
  expires?: number;
}

/** Whether `entry` has expired by `at` (a time already moved forward by the skew allowance). */
export const expiredBy = (entry: { expires?: number }, at: number): boolean => entry.expires !== undefined && entry.expires <= at;

export type ApplyResult = { applied: true } | { applied: false; current: Entry };

/** Told of every entry stored or removed, as it happens (lib/sync keeps its anti-entropy summaries by it). */
export interface StoreListener {
  /** `slot`'s entry went from `before` to `after` (absent: none); its key is `len` bytes of `bytes` from `off`. */
  changed(slot: number, bytes: Uint8Array, off: number, len: number, before: Version | undefined, after: Version | undefined): void;
}

export interface StoreStats {
  /** Keys holding a value (tombstones excluded). */
  liveKeys: number;
  tombstones: number;
  /** Bytes of keys and values held, tombstones' keys included. */
  bytes: number;
}

const APPLIED: ApplyResult = Object.freeze({ applied: true });

export class Store {
  readonly #slots = new SlotColumns();
  readonly #slabs = new Slabs({
    holds: (slot, slab, offset) => this.#slots.slab[slot] === slab && this.#slots.offset[slot] === offset,
    moved: (slot, slab, offset) => {
      this.#slots.slab[slot] = slab;
      this.#slots.offset[slot] = offset;
    },
  });
  readonly #index = new KeyIndex({
    hashOf: (slot) => this.#slots.hash[slot]!,
    holdsKey: (slot, bytes, len) => this.#compareWith(bytes, 0, len, slot) === 0,
  });
  readonly #order = new KeyOrder({
    compareWith: (bytes, off, len, slot) => this.#compareWith(bytes, off, len, slot),
    startsWith: (slot, prefix) => this.#slabs.keyHasPrefix(this.#slots.slab[slot]!, this.#slots.offset[slot]!, prefix),
  });
  readonly #writers = new Interned();
  readonly #contentTypes = new Interned();
  readonly #scratch = new KeyScratch();
  /** The length and index hash of the key `#find` last encoded into the scratch buffer. */
  #keyLength = 0;
  #keyHash = 0;
  readonly #retention = new Retention();
  /** Slots holding a conditional write → its step and ballot. */
  readonly #chained = new Map<number, { step: number; ballot: Ballot }>();
  #liveKeys = 0;
  #bytes = 0;
  /** Entries stored and removed so far, each told to `listener` as it happens. */
  changes = 0;
  listener: StoreListener | undefined;

  constructor(private readonly now: () => number) {}

  get(key: string): Entry | undefined {
    const slot = this.#find(key);
    return slot < 0 ? undefined : this.entryAt(slot);
  }

  /** Stores `entry` if it is newer than what this replica holds for `key`. */
  apply(key: string, entry: Entry): ApplyResult {
    let slot = this.#find(key);
    const bytes = this.#scratch.bytes;
    const len = this.#keyLength;
    const added = slot < 0;
    let before: Version | undefined;
    if (added) {
      slot = this.#slots.allocate();
      this.#slots.hash[slot] = this.#keyHash;
    } else {
      before = this.versionAt(slot);
      if (!isNewer(entry.version, before)) return { applied: false, current: this.entryAt(slot) };
      this.#clear(slot);
    }
    this.#slabs.append(slot, bytes, 0, len, entry.value);
    this.#slots.slab[slot] = this.#slabs.slab;
    this.#slots.offset[slot] = this.#slabs.offset;
    if (added) {
      this.#index.insert(this.#slots.hash[slot]!, slot);
      this.#order.add(slot, bytes, 0, len);
    }
    this.#fill(slot, entry);
    this.listener?.changed(slot, bytes, 0, len, before, entry.version);
    return APPLIED;
  }

  /**
   * Every entry, tombstones included, walked by slot: live, so a long walk that pauses sees
   * the writes made meanwhile to keys it has not reached, and keys added in new slots.
   */
  *entries(): IterableIterator<[string, Entry]> {
    for (const slot of this.slots()) yield [this.keyAt(slot), this.entryAt(slot)];
  }

  /**
   * Every key's slot, walked as `entries` walks: for a scan that needs each key's bytes and
   * version, but the string and entry of only a few. A slot is that key's until the next
   * write, so read what the slot holds before the walk (or anything else) awaits.
   */
  *slots(): IterableIterator<number> {
    for (let slot = 0; slot < this.#slots.count; slot++) if (this.#slots.inUse(slot)) yield slot;
  }

  /** `read` over the UTF-8 bytes of the key in `slot`, where they lie. */
  readKey<T>(slot: number, read: (bytes: Uint8Array, from: number, length: number) => T): T {
    return this.#slabs.readKey(this.#slots.slab[slot]!, this.#slots.offset[slot]!, read);
  }

  get size(): number {
    return this.#index.size;
  }

  /** Up to `limit` entries (tombstones and expired ones included) whose keys start with `prefix`, after `after`, in key order. */
  scan(prefix: string, after: string | undefined, limit: number): Array<[string, Entry]> {
    const found: Array<[string, Entry]> = [];
    if (limit <= 0) return found;
    const fromAfter = after !== undefined && after >= prefix;
    for (const slot of this.#order.from(utf8(prefix), utf8(fromAfter ? after : prefix), fromAfter)) {
      found.push([this.keyAt(slot), this.entryAt(slot)]);
      if (found.length === limit) break;
    }
    return found;
  }

  /** Removes `key` if it still holds exactly `version` (it was handed to its new owners). */
  dropIf(key: string, version: Version): boolean {
    const slot = this.#find(key);
    if (slot < 0 || compareVersions(this.versionAt(slot), version) !== 0) return false;
    this.#remove(slot);
    return true;
  }

  /** Removes tombstones stored at least `graceMs` ago; returns how many went. */
  purgeTombstones(graceMs: number): number {
    let purged = 0;
    for (const slot of this.#retention.tombstonedBy(this.now() - graceMs)) {
      this.#remove(slot);
      purged++;
    }
    return purged;
  }

  /** Removes entries that expired at least `graceMs` ago by this replica's clock (retention.ts). */
  purgeExpired(graceMs: number): number {
    let purged = 0;
    for (const slot of this.#retention.expiredBy(this.now() - graceMs)) {
      if (this.#slots.flags[slot]! & TOMBSTONE) continue; // purged as a tombstone
      this.#remove(slot);
      purged++;
    }
    return purged;
  }

  stats(): StoreStats {
    return { liveKeys: this.#liveKeys, tombstones: this.#retention.tombstones, bytes: this.#bytes };
  }

  /** The slabs held and their bytes: what the records cost, dead ones awaiting compaction included. */
  slabs(): { slabs: number; bytes: number } {
    return this.#slabs.stats();
  }

  /** The key's slot, or -1; leaves the key encoded in the scratch buffer (`#keyLength` bytes, `#keyHash`). */
  #find(key: string): number {
    const len = (this.#keyLength = this.#scratch.encode(key));
    const bytes = this.#scratch.bytes;
    return this.#index.find((this.#keyHash = hashKeyBytes(bytes, 0, len)), bytes, len);
  }

  /** Records what `entry` says of `slot` (whose record is written). */
  #fill(slot: number, entry: Entry): void {
    const s = this.#slots;
    const version = entry.version;
    this.changes++;
    s.wall[slot] = version.wall;
    s.logical[slot] = version.logical;
    s.writer[slot] = this.#writers.take(version.node);
    s.contentType[slot] = this.#contentTypes.take(entry.contentType);
    let flags = 0;
    if (entry.tombstone) {
      flags |= TOMBSTONE;
      this.#retention.tombstoned(slot, this.now());
    } else this.#liveKeys++;
    if (entry.expires !== undefined) {
      flags |= EXPIRES;
      this.#retention.expiring(slot, entry.expires);
    }
    if (version.step !== undefined) {
      flags |= CHAINED;
      this.#chained.set(slot, { step: version.step, ballot: version.ballot! });
    }
    s.flags[slot] = flags;
    this.#bytes += this.#slabs.keyLength(s.slab[slot]!, s.offset[slot]!) + this.#slabs.valueLength(s.slab[slot]!, s.offset[slot]!);
  }

  /** Forgets what `slot` holds but its key's place in the index and order. */
  #clear(slot: number): void {
    const s = this.#slots;
    const { slab, offset } = this.#recordOf(slot);
    this.#bytes -= this.#slabs.keyLength(slab, offset) + this.#slabs.valueLength(slab, offset);
    if (!(s.flags[slot]! & TOMBSTONE)) this.#liveKeys--;
    this.#writers.release(s.writer[slot]!);
    this.#contentTypes.release(s.contentType[slot]!);
    this.#retention.forget(slot);
    this.#chained.delete(slot);
    // The slot names no record while the old one is let go, so compaction does not move it.
    s.slab[slot] = NO_SLAB;
    this.#slabs.release(slab, offset);
  }

  /** Forgets `slot` everywhere this store indexes it (deleting from a Map while iterating it is safe). */
  #remove(slot: number): void {
    const { slab, offset } = this.#recordOf(slot);
    const key = this.#slabs.keyView(slab, offset);
    this.changes++;
    this.listener?.changed(slot, key, 0, key.length, this.versionAt(slot), undefined);
    this.#order.remove(slot, key, 0, key.length);
    this.#index.remove(slot);
    this.#clear(slot);
    this.#slots.release(slot);
  }

  #recordOf(slot: number): { slab: number; offset: number } {
    return { slab: this.#slots.slab[slot]!, offset: this.#slots.offset[slot]! };
  }

  /** The key in `slot` (see `slots`). */
  keyAt(slot: number): string {
    const { slab, offset } = this.#recordOf(slot);
    return this.#slabs.key(slab, offset);
  }

  #compareWith(bytes: Uint8Array, off: number, len: number, slot: number): number {
    return this.#slabs.compareKey(bytes, off, len, this.#slots.slab[slot]!, this.#slots.offset[slot]!);
  }

  /** The version of the key in `slot`. */
  versionAt(slot: number): Version {
    const s = this.#slots;
    const version: Version = { wall: s.wall[slot]!, logical: s.logical[slot]!, node: this.#writers.get(s.writer[slot]!) };
    if (s.flags[slot]! & CHAINED) {
      const chained = this.#chained.get(slot)!;
      version.step = chained.step;
      version.ballot = chained.ballot;
    }
    return version;
  }

  /** The entry in `slot`, built on each call. */
  entryAt(slot: number): Entry {
    const s = this.#slots;
    const flags = s.flags[slot]!;
    const entry: Entry = {
      value: this.#slabs.value(s.slab[slot]!, s.offset[slot]!),
      contentType: this.#contentTypes.get(s.contentType[slot]!),
      version: this.versionAt(slot),
      tombstone: (flags & TOMBSTONE) !== 0,
    };
    if (flags & EXPIRES) entry.expires = this.#retention.expiryOf(slot)!;
    return entry;
  }
}
