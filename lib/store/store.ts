/**
 * The node's in-memory replica: key → newest entry it has accepted.
 *
 * A replica accepts an entry only when its version is newer than what it holds, and says
 * what it holds when it refuses; that one rule is what lets the coordinator order writes
 * without trusting clocks. Deletes are tombstones: entries with no value that win over
 * older writes, and are purged once their grace period has passed. An entry written with a
 * time to live carries its expiry (`expires`, wall-clock ms): it is served by no one after
 * that (replication/read.ts, `live`), and purged like a tombstone a grace period later.
 */
import { SortedKeys } from "./sorted_keys.ts";
import { compareVersions, isNewer, type Version } from "./version.ts";

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

export interface StoreStats {
  /** Keys holding a value (tombstones excluded). */
  liveKeys: number;
  tombstones: number;
  /** Bytes of keys and values held, tombstones' keys included. */
  bytes: number;
}

const encoder = new TextEncoder();

export class Store {
  readonly #entries = new Map<string, Entry>();
  /** The same keys in order, for listings. */
  readonly #sorted = new SortedKeys();
  /** Tombstoned keys → when this replica stored the tombstone, oldest first (insertion order). */
  readonly #tombstonedAt = new Map<string, number>();
  /** Keys whose entry expires → when (not ordered: expiries are any time ahead). */
  readonly #expiring = new Map<string, number>();
  #liveKeys = 0;
  #bytes = 0;

  constructor(private readonly now: () => number) {}

  get(key: string): Entry | undefined {
    return this.#entries.get(key);
  }

  /** Stores `entry` if it is newer than what this replica holds for `key`. */
  apply(key: string, entry: Entry): ApplyResult {
    const current = this.#entries.get(key);
    if (current && !isNewer(entry.version, current.version)) return { applied: false, current };
    this.#entries.set(key, entry);
    if (!current) this.#sorted.add(key);
    this.#account(key, current, -1);
    this.#account(key, entry, +1);
    this.#tombstonedAt.delete(key);
    if (entry.tombstone) this.#tombstonedAt.set(key, this.now());
    if (entry.expires !== undefined && !entry.tombstone) this.#expiring.set(key, entry.expires);
    else this.#expiring.delete(key);
    return { applied: true };
  }

  /** Every entry, tombstones included, live: a long walk sees writes made while it pauses. */
  entries(): IterableIterator<[string, Entry]> {
    return this.#entries.entries();
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Up to `limit` entries (tombstones and expired ones included) whose keys start with `prefix`, after `after`, in key order. */
  scan(prefix: string, after: string | undefined, limit: number): Array<[string, Entry]> {
    const found: Array<[string, Entry]> = [];
    if (limit <= 0) return found;
    for (const key of this.#sorted.from(prefix, after)) {
      found.push([key, this.#entries.get(key)!]);
      if (found.length === limit) break;
    }
    return found;
  }

  /** Removes `key` if it still holds exactly `version` (it was handed to its new owners). */
  dropIf(key: string, version: Version): boolean {
    const entry = this.#entries.get(key);
    if (!entry || compareVersions(entry.version, version) !== 0) return false;
    this.#remove(key, entry);
    return true;
  }

  /** Removes tombstones stored at least `graceMs` ago; returns how many went. */
  purgeTombstones(graceMs: number): number {
    const cutoff = this.now() - graceMs;
    let purged = 0;
    for (const [key, storedAt] of this.#tombstonedAt) {
      if (storedAt > cutoff) break;
      this.#remove(key, this.#entries.get(key)!);
      purged++;
    }
    return purged;
  }

  /**
   * Removes entries that expired at least `graceMs` ago by this replica's clock, as
   * tombstones are purged (a replica that missed the write had that long to be repaired).
   * Walks every expiring key: their expiries are in no order.
   */
  purgeExpired(graceMs: number): number {
    const cutoff = this.now() - graceMs;
    let purged = 0;
    for (const [key, expires] of this.#expiring) {
      if (expires > cutoff) continue;
      this.#remove(key, this.#entries.get(key)!);
      purged++;
    }
    return purged;
  }

  stats(): StoreStats {
    return { liveKeys: this.#liveKeys, tombstones: this.#tombstonedAt.size, bytes: this.#bytes };
  }

  /** Forgets `key` everywhere this store indexes it (deleting from a Map while iterating it is safe). */
  #remove(key: string, entry: Entry): void {
    this.#entries.delete(key);
    this.#sorted.delete(key);
    this.#tombstonedAt.delete(key);
    this.#expiring.delete(key);
    this.#account(key, entry, -1);
  }

  #account(key: string, entry: Entry | undefined, sign: 1 | -1): void {
    if (!entry) return;
    if (!entry.tombstone) this.#liveKeys += sign;
    this.#bytes += sign * (keyBytes(key) + entry.value.byteLength);
  }
}

/** UTF-8 length without allocating for the common all-ASCII key. */
export function keyBytes(key: string): number {
  for (let i = 0; i < key.length; i++) {
    if (key.charCodeAt(i) > 0x7f) return encoder.encode(key).byteLength;
  }
  return key.length;
}
