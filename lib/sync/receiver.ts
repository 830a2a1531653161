/**
 * The receiving side of stabilisation (`/_kv/digest`, `/_kv/offer`, `/_kv/push`): compare a
 * peer's summaries with this node's, say which offered keys this node lacks, store what is
 * pushed. A key asked of one member is not asked of another for a while, so two owners of
 * a lost range do not both send it.
 */
import { LeavingError, type Replica } from "../replication/replica.ts";
import type { Entry, Store } from "../store/store.ts";
import { keyBytes } from "../store/store.ts";
import { compareVersions, isNewer, type Version } from "../store/version.ts";
import type { DigestTables } from "./antientropy.ts";
import { type BucketSummary, BucketDigests } from "./digest.ts";
import type { DigestReply, OfferReply, PushReason, PushReply } from "../wire/sync.ts";
import { SYNC_TIMEOUT_MS, type SyncCounters } from "./context.ts";
import type { Clock } from "../env.ts";
import type { SyncTokens } from "./tokens.ts";

/** How long a key asked of one member is not asked of another (a push's time, with room). */
const PROMISE_MS = 2 * SYNC_TIMEOUT_MS;
/** Expired promises are swept once this many are held. */
const PROMISES_SWEEP_AT = 100_000;
/** Past this many unexpired promises a wanted key is asked for without one (at worst sent twice). */
const MAX_PROMISES = 4 * PROMISES_SWEEP_AT;

export interface ReceiverOptions {
  store: Store;
  replica: Replica;
  clock: Clock;
  counters: SyncCounters;
  leaving(): boolean;
  /** This node's current per-peer summaries (scanned again when stale). */
  tables(): Promise<DigestTables>;
  /** Entries were stored: check them against the other owners soon. */
  received(): void;
  tokens: SyncTokens;
}

export class SyncReceiver {
  /** Keys this node asked one member for (key → version, until when another need not send it). */
  readonly #promised = new Map<string, { from: string; version: Version; until: number }>();

  constructor(readonly o: ReceiverOptions) {}

  /**
   * Compares a peer's summaries of the keys both hold with this node's, and gives it a
   * token (this node's clock now); `synced`: a token of ours it confirms (tokens.ts).
   */
  async digest(from: string, theirs: readonly BucketSummary[], synced?: number): Promise<DigestReply> {
    if (this.o.leaving()) throw new LeavingError(); // it takes nothing in; its own rounds give everything away
    if (synced !== undefined) this.o.tokens.confirmedBy(from, synced);
    const token = this.o.clock.now();
    const mine = (await this.o.tables()).byPeer.get(from) ?? new BucketDigests();
    return { differ: mine.differences(theirs), token };
  }

  /** Of the offered (key, version) pairs, the ones this node lacks or holds older. */
  offer(from: string, keys: ReadonlyArray<[string, Version]>): OfferReply {
    if (this.o.leaving()) throw new LeavingError(); // the sender keeps these for the members that stay
    const now = this.o.clock.monotonicMs();
    this.#forgetPromises(now);
    const want: number[] = [];
    const pending: number[] = [];
    keys.forEach(([key, version], i) => {
      if (!isNewer(version, this.o.store.get(key)?.version)) return;
      // Two owners of a lost range offer it at once: the second is told it is on its way.
      const promised = this.#promised.get(key);
      if (promised && promised.from !== from && promised.until > now && compareVersions(promised.version, version) >= 0) {
        pending.push(i);
      } else {
        want.push(i);
        if (this.#promised.size < MAX_PROMISES) this.#promised.set(key, { from, version, until: now + PROMISE_MS });
      }
    });
    return { want, pending };
  }

  /** Stores pushed entries that are newer than this node's. */
  push(reason: PushReason, entries: ReadonlyArray<[string, Entry]>): PushReply {
    if (this.o.leaving()) throw new LeavingError();
    let applied = 0;
    let bytes = 0;
    for (const [key, entry] of entries) {
      if (this.o.replica.put(key, entry).applied) applied++;
      bytes += keyBytes(key) + entry.value.byteLength;
    }
    (reason === "handoff" ? this.o.counters.rebalanced : this.o.counters.repairs).inc([], applied);
    this.o.counters.bytesReceived.inc([], bytes);
    if (applied > 0) this.o.received();
    return { applied };
  }

  #forgetPromises(now: number): void {
    if (this.#promised.size < PROMISES_SWEEP_AT) return;
    for (const [key, p] of this.#promised) if (p.until <= now) this.#promised.delete(key);
  }
}
