/**
 * Stabilisation: every key back on its N replicas after the ring changes, and replicas
 * that drifted apart brought level. One loop, in rounds (on a ring change, and every
 * --sync-interval-ms), each a few passes over the store in pages:
 *
 * 1. Hand-off: keys this node holds but no longer owns (a member joined, or this node is
 *    leaving) are offered to their owners as (key, version) lists; each owner names the
 *    ones it lacks, which are pushed. A key is dropped here only once every owner has
 *    confirmed holding its version or a newer one.
 * 2. Anti-entropy: for each peer it shares keys with, this node summarises the shared keys
 *    in fixed buckets (digest.ts) and sends the summaries; the peer answers with the
 *    buckets that differ. The keys of those buckets are offered, and the ones the peer
 *    lacks are pushed (a bucket the peer holds nothing of is pushed without asking). A
 *    member that died is off the ring, so its ranges' new owners come out of this step
 *    empty-handed and are filled. The peer's own rounds send the other way.
 *
 * Entries are referenced, never copied wholesale: pages of keys and pushes of bounded bytes,
 * paced by a byte-rate throttle, with a yield to the event loop between pages.
 */
import { type Env, sendWithTimeout } from "../env.ts";
import type { Metrics } from "../metrics.ts";
import { LeavingError, type Replica } from "../replication/replica.ts";
import { ringPosition } from "../ring/hash.ts";
import type { Topology } from "../topology/topology.ts";
import type { Entry, Store } from "../store/store.ts";
import { keyBytes } from "../store/store.ts";
import { compareVersions, isNewer, type Version } from "../store/version.ts";
import { BucketDigests, bucketOf } from "./digest.ts";
import {
  decodeDigestReply,
  decodeOfferReply,
  decodePushReply,
  type DigestReply,
  encodeDigestRequest,
  encodeOfferRequest,
  encodePushRequest,
  MAX_OFFER_KEYS,
  type OfferReply,
  type PushReason,
  type PushReply,
} from "./messages.ts";
import type { BucketSummary } from "./digest.ts";
import { Throttle } from "./throttle.ts";

export interface SyncConfig {
  replicas: number;
  syncIntervalMs: number;
  syncBytesPerSec: number;
}

export interface SyncerOptions {
  self: string;
  store: Store;
  /** The agreed ring: who should hold each key, and where ranges are moving. */
  topology: Topology;
  replica: Replica;
  env: Pick<Env, "clock" | "transport" | "log">;
  config: SyncConfig;
  metrics: Metrics;
}

/** What one round did, for /cluster/sync and for knowing when the cluster has settled. */
export interface RoundReport {
  startedAt: number;
  durationMs: number;
  keysScanned: number;
  keysOffered: number;
  keysPushed: number;
  bytesPushed: number;
  keysHandedOff: number;
  /** Keys not owned here that some owner has not confirmed yet (kept, retried next round). */
  keysUnconfirmed: number;
  bucketsDiffering: number;
  peersFailed: string[];
  /** Per peer: what moved to it. */
  transfers: Transfer[];
}

export interface Transfer {
  peer: string;
  /** Buckets (1/1,024 of the ring each) whose shared keys differed from the peer's. */
  bucketsDiffering: number;
  keysOffered: number;
  keysPushed: number;
  bytesPushed: number;
}

/** Keys per page of a pass, and between yields to the event loop. */
const PAGE_KEYS = 1_000;
/** Bytes of values per push message (one larger value goes alone). */
const PUSH_BYTES = 256 * 1024;
/** How long a peer gets to answer one stabilisation message. */
const SYNC_TIMEOUT_MS = 5_000;
/** How long a key asked of one member is not asked of another (a push's time, with room). */
const PROMISE_MS = 2 * SYNC_TIMEOUT_MS;
/** Expired promises are swept once this many are held. */
const PROMISES_SWEEP_AT = 100_000;
/** Ring changes arrive in bursts (a joiner learning everyone); one round follows the burst. */
const RING_CHANGE_DELAY_MS = 200;
/** While ranges move: how often, and how many times, keys another owner was sending are offered again. */
const STREAM_RETRY_MS = 250;
const STREAM_RETRIES = 40;
/** A round that moved data is followed by another soon, to confirm the cluster is level. */
const MIN_FOLLOW_UP_MS = 1_000;

interface Candidate {
  key: string;
  entry: Entry;
}

export class Syncer {
  readonly #o: SyncerOptions;
  readonly #throttle: Throttle;
  #timer: unknown;
  #dueAt = 0;
  /** Keys this node asked one member for (key → version, until when another need not send it). */
  readonly #promised = new Map<string, { from: string; version: Version; until: number }>();
  #running: Promise<void> | undefined;
  #again = false;
  #stopped = false;
  #leaving = false;
  #last: RoundReport | undefined;
  #transfers = new Map<string, Transfer>();
  /** Per-peer summaries from the latest pass, reused to answer peers' digests. */
  #tables: { ringGeneration: number; at: number; byPeer: Map<string, BucketDigests> } | undefined;
  /** The ring generation the last round ran on. */
  #lastGeneration = -1;
  readonly #counters;

  constructor(options: SyncerOptions) {
    this.#o = options;
    this.#throttle = new Throttle(options.env.clock, options.config.syncBytesPerSec);
    const m = options.metrics;
    this.#counters = {
      rounds: m.counter("dht_sync_rounds_total", "Stabilisation rounds run (hand-off and anti-entropy)"),
      rebalanced: m.counter("dht_rebalanced_keys_total", "Entries stored here that another member handed off (it no longer owns them)"),
      repairs: m.counter("dht_antientropy_repairs_total", "Entries stored here because anti-entropy found this replica behind"),
      handedOff: m.counter("dht_keys_handed_off_total", "Entries dropped here after every new owner confirmed them"),
      bytesSent: m.counter("dht_sync_bytes_sent_total", "Bytes of entries pushed to other members by stabilisation"),
      keysSent: m.counter("dht_sync_keys_sent_total", "Entries pushed to other members by stabilisation"),
      bytesReceived: m.counter("dht_sync_bytes_received_total", "Bytes of entries received from other members by stabilisation"),
    };
    m.gauge("dht_sync_transfers", "Members this node is pushing entries to right now", () => this.#transfers.size);
  }

  get leaving(): boolean {
    return this.#leaving;
  }

  start(): void {
    // Spread first rounds over the interval by the node's id, not by drawing on the shared
    // random source (membership's choices stay as they were, seed for seed, in simulation).
    const spread = Number(ringPosition(this.#o.self) >> 32n) / 0x1_0000_0000;
    this.#schedule(this.#o.config.syncIntervalMs * (0.5 + spread / 2));
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) this.#o.env.clock.clearTimeout(this.#timer);
  }

  /**
   * The ring changed: a round soon. A round already due sooner stays, so a stream of
   * changes (a cluster forming) gets a round every RING_CHANGE_DELAY_MS, not none.
   */
  ringChanged(): void {
    this.#tables = undefined;
    this.#within(RING_CHANGE_DELAY_MS);
  }

  /** A round within `ms`: an earlier one already due stays. */
  #within(ms: number): void {
    if (this.#timer !== undefined && this.#dueAt <= this.#o.env.clock.monotonicMs() + ms) return;
    this.#schedule(ms);
  }

  /** After a busy round, or data received: soon, but never spending most of the time scanning. */
  #followUpMs(): number {
    return Math.min(this.#o.config.syncIntervalMs, Math.max(MIN_FOLLOW_UP_MS, 4 * (this.#last?.durationMs ?? 0)));
  }

  /**
   * Graceful leave: from now on this node owns nothing, so rounds hand every key to the
   * members that take over; resolves once none is left unconfirmed, or at the deadline.
   */
  async leave(timeoutMs: number): Promise<{ handedOff: boolean; remaining: number }> {
    this.#leaving = true;
    this.#tables = undefined;
    const { clock } = this.#o.env;
    const deadline = clock.monotonicMs() + timeoutMs;
    for (;;) {
      await this.runRound();
      const remaining = this.#last?.keysUnconfirmed ?? 0;
      if (remaining === 0) return { handedOff: true, remaining };
      // Every other member leaving too (a whole cluster shutting down): nobody to wait for.
      const leaving = this.#o.topology.leavers();
      const staying = this.#o.topology.layout.current.members().filter((m) => m !== this.#o.self && !leaving.has(m));
      if (staying.length === 0) return { handedOff: false, remaining };
      if (clock.monotonicMs() >= deadline) return { handedOff: false, remaining };
      await sleep(clock, Math.min(500, deadline - clock.monotonicMs()));
    }
  }

  status() {
    const last = this.#last;
    return {
      leaving: this.#leaving,
      running: this.#running !== undefined,
      /** True when the last round ran on the current ring and found nothing to move. */
      settled: this.#running === undefined && last !== undefined && quiet(last) && (this.#lastGeneration === EMPTY ? this.#o.store.size === 0 : this.#lastGeneration === this.#o.topology.epoch),
      /** The round in progress: what is moving to whom. */
      transfers: this.#running === undefined ? [] : [...this.#transfers.values()],
      lastRound: last,
    };
  }

  /** Runs a round now, or right after the one running. */
  runRound(): Promise<void> {
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    this.#running = this.#round()
      .catch((err) => this.#o.env.log.error("stabilisation round failed", { error: String(err) }))
      .finally(() => {
        this.#running = undefined;
        if (this.#again && !this.#stopped) {
          this.#again = false;
          void this.runRound();
        }
      });
    return this.#running;
  }

  // --- the receiving side (the /_kv/ routes call these) ---

  /** Compares a peer's summaries of the keys both hold with this node's. */
  async digest(from: string, theirs: readonly BucketSummary[]): Promise<DigestReply> {
    if (this.#leaving) throw new LeavingError(); // it takes nothing in; its own rounds give everything away
    const fresh = this.#tables && this.#tables.ringGeneration === this.#o.topology.epoch && this.#o.env.clock.monotonicMs() - this.#tables.at < this.#o.config.syncIntervalMs;
    if (!fresh) await this.#scan(() => Promise.resolve());
    const mine = this.#tables?.byPeer.get(from) ?? new BucketDigests();
    return { differ: mine.differences(theirs) };
  }

  /** Of the offered (key, version) pairs, the ones this node lacks or holds older. */
  offer(from: string, keys: ReadonlyArray<[string, Version]>): OfferReply {
    if (this.#leaving) throw new LeavingError(); // the sender keeps these for the members that stay
    const now = this.#o.env.clock.monotonicMs();
    this.#forgetPromises(now);
    const want: number[] = [];
    const pending: number[] = [];
    keys.forEach(([key, version], i) => {
      if (!isNewer(version, this.#o.store.get(key)?.version)) return;
      // Two owners of a lost range offer it at once: the second is told it is on its way.
      const promised = this.#promised.get(key);
      if (promised && promised.from !== from && promised.until > now && compareVersions(promised.version, version) >= 0) {
        pending.push(i);
      } else {
        want.push(i);
        this.#promised.set(key, { from, version, until: now + PROMISE_MS });
      }
    });
    return { want, pending };
  }

  #forgetPromises(now: number): void {
    if (this.#promised.size < PROMISES_SWEEP_AT) return;
    for (const [key, p] of this.#promised) if (p.until <= now) this.#promised.delete(key);
  }

  /** Stores pushed entries that are newer than this node's. */
  push(reason: PushReason, entries: ReadonlyArray<[string, Entry]>): PushReply {
    if (this.#leaving) throw new LeavingError();
    let applied = 0;
    let bytes = 0;
    for (const [key, entry] of entries) {
      if (this.#o.replica.put(key, entry).applied) applied++;
      bytes += keyBytes(key) + entry.value.byteLength;
    }
    (reason === "handoff" ? this.#counters.rebalanced : this.#counters.repairs).inc([], applied);
    this.#counters.bytesReceived.inc([], bytes);
    // New data here: this node's own round checks it against the other owners soon.
    if (applied > 0 && !this.#stopped) this.#within(this.#followUpMs());
    return { applied };
  }

  // --- the sending side ---

  #schedule(ms: number): void {
    if (this.#stopped) return;
    if (this.#timer !== undefined) this.#o.env.clock.clearTimeout(this.#timer);
    this.#dueAt = this.#o.env.clock.monotonicMs() + ms;
    this.#timer = this.#o.env.clock.setTimeout(() => {
      this.#timer = undefined;
      void this.runRound().then(() => {
        if (this.#timer !== undefined || this.#stopped) return;
        const busy = this.#last !== undefined && !quiet(this.#last);
        this.#schedule(busy ? this.#followUpMs() : this.#o.config.syncIntervalMs);
      });
    }, ms);
  }

  /**
   * The members that should hold a key at `position`: its owners in the agreed ring, old
   * and new while it moves. A node handing off before it exits counts itself out.
   */
  #owners(position: bigint): string[] {
    const holders = this.#o.topology.layout.holders(position);
    return this.#leaving ? holders.filter((m) => m !== this.#o.self) : holders;
  }

  async #round(): Promise<void> {
    const { clock } = this.#o.env;
    const generation = this.#o.topology.epoch;
    if (this.#o.store.size === 0) {
      // Nothing to hand off, stream or compare.
      this.#o.topology.markStreamed(generation);
      this.#last = { ...emptyReport(), startedAt: clock.now() };
      this.#lastGeneration = EMPTY;
      return;
    }
    const report: RoundReport = { ...emptyReport(), startedAt: clock.now() };
    const started = clock.monotonicMs();
    const failed = new Set<string>();
    this.#transfers = new Map();

    // Pass 1: hand off what this node no longer owns, a page at a time, and summarise the rest.
    let page: Array<Candidate & { owners: string[] }> = [];
    const flushHandoff = async () => {
      const batch = page;
      page = [];
      await this.#handOff(batch, report, failed);
    };
    report.keysScanned = await this.#scan(async (key, entry, owners) => {
      page.push({ key, entry, owners });
      if (page.length >= PAGE_KEYS) await flushHandoff();
    });
    await flushHandoff();

    // Pass 1b: while ranges move, push what this node holds of them to their new owners.
    if (!this.#o.topology.layout.stable && await this.#stream(report, failed)) this.#o.topology.markStreamed(generation);

    // Pass 2: ask each peer which buckets differ; pass 3: offer (or push) those buckets' keys.
    const byPeer = this.#tables?.byPeer ?? new Map<string, BucketDigests>();
    const differing = new Map<string, Map<number, number>>();
    await Promise.all(
      [...byPeer].map(async ([peer, digests]) => {
        try {
          const reply = decodeDigestReply(await this.#send(peer, "/_kv/digest", encodeDigestRequest({ from: this.#o.self, buckets: digests.summaries() })));
          if (reply.differ.length > 0) {
            differing.set(peer, new Map(reply.differ));
            this.#transfer(peer).bucketsDiffering = reply.differ.length;
          }
          report.bucketsDiffering += reply.differ.length;
        } catch {
          failed.add(peer);
        }
      }),
    );
    if (differing.size > 0) await this.#repair(differing, report, failed);

    report.durationMs = clock.monotonicMs() - started;
    report.peersFailed = [...failed].sort();
    report.transfers = [...this.#transfers.values()];
    this.#last = report;
    this.#lastGeneration = generation;
    this.#transfers = new Map();
    this.#counters.rounds.inc();
    if (!quiet(report)) {
      const { transfers: _, ...line } = report;
      this.#o.env.log.info("stabilisation round", { ...line, peersFailed: report.peersFailed.join(",") });
    }
  }

  /**
   * One pass over the store: builds the per-peer summaries of shared keys (kept in #tables)
   * and calls `notOwned` for each key this node holds without owning it. Returns the keys seen.
   */
  async #scan(notOwned: (key: string, entry: Entry, owners: string[]) => Promise<void>): Promise<number> {
    const { self, store } = this.#o;
    const generation = this.#o.topology.epoch;
    const byPeer = new Map<string, BucketDigests>();
    let seen = 0;
    for (const [key, entry] of store.entries()) {
      if (++seen % PAGE_KEYS === 0) await this.#yield();
      const position = ringPosition(key);
      const owners = this.#owners(position);
      if (!owners.includes(self)) {
        await notOwned(key, entry, owners);
        continue;
      }
      const bucket = bucketOf(position);
      const keyHash = Number(position & 0xffff_ffffn);
      for (const peer of owners) {
        if (peer === self) continue;
        let digests = byPeer.get(peer);
        if (!digests) byPeer.set(peer, (digests = new BucketDigests()));
        digests.add(bucket, keyHash, entry.version);
      }
    }
    this.#tables = { ringGeneration: generation, at: this.#o.env.clock.monotonicMs(), byPeer };
    return seen;
  }

  /** Offers a page of keys to their owners, pushes what they lack, drops what all confirmed. */
  async #handOff(page: Array<Candidate & { owners: string[] }>, report: RoundReport, failed: Set<string>): Promise<void> {
    if (page.length === 0) return;
    const confirmations = new Array<number>(page.length).fill(0);
    const byOwner = new Map<string, number[]>();
    page.forEach((c, i) => {
      for (const owner of c.owners) {
        let list = byOwner.get(owner);
        if (!list) byOwner.set(owner, (list = []));
        list.push(i);
      }
    });
    await Promise.all(
      [...byOwner].map(async ([owner, indexes]) => {
        const confirmed = await this.#offerAndPush(owner, "handoff", indexes.map((i) => page[i]!), report, failed);
        indexes.forEach((i, j) => {
          if (confirmed[j]) confirmations[i]!++;
        });
      }),
    );
    let dropped = 0;
    page.forEach((c, i) => {
      if (c.owners.length > 0 && confirmations[i] === c.owners.length) {
        // Only the confirmed version goes: a newer write that arrived meanwhile stays for the next round.
        if (this.#o.store.dropIf(c.key, c.entry.version)) dropped++;
      } else {
        report.keysUnconfirmed++;
      }
    });
    report.keysHandedOff += dropped;
    this.#counters.handedOff.inc([], dropped);
  }

  /**
   * Pass 3: the keys of differing buckets, offered. Always offered, even to a peer holding
   * none of a bucket: a (key, version) pair is a fraction of an entry, and the offer is what
   * lets the peer take each entry from one owner only.
   */
  async #repair(differing: Map<string, Map<number, number>>, report: RoundReport, failed: Set<string>): Promise<void> {
    const { self, store } = this.#o;
    const offers = new Map<string, Candidate[]>();
    const flush = async (peer: string) => {
      const offer = offers.get(peer) ?? [];
      offers.delete(peer);
      if (offer.length > 0) await this.#offerAndPush(peer, "repair", offer, report, failed);
    };
    let seen = 0;
    for (const [key, entry] of store.entries()) {
      if (++seen % PAGE_KEYS === 0) await this.#yield();
      const position = ringPosition(key);
      const owners = this.#owners(position);
      if (!owners.includes(self)) continue;
      const bucket = bucketOf(position);
      for (const peer of owners) {
        if (!differing.get(peer)?.has(bucket) || failed.has(peer)) continue;
        let list = offers.get(peer);
        if (!list) offers.set(peer, (list = []));
        list.push({ key, entry });
        if (list.length >= PAGE_KEYS) await flush(peer);
      }
    }
    await Promise.all([...offers.keys()].map(flush));
  }

  /**
   * The data movement of a transition: every key this node holds as an old owner of a
   * range that changes owners is offered to each new owner (which takes what it lacks).
   * This node knows the epoch before it scans, so it already refuses older writes: what it
   * acknowledged before is in its store now. True when every new owner took everything.
   */
  async #stream(report: RoundReport, failed: Set<string>): Promise<boolean> {
    const { self, store } = this.#o;
    const layout = this.#o.topology.layout;
    const offers = new Map<string, Candidate[]>();
    /** Per peer, what it did not hold yet: promised by another old owner, which is sending it. */
    const waiting = new Map<string, Candidate[]>();
    let complete = true;
    const targets = new Set<string>();
    const flush = async (peer: string, offer = offers.get(peer) ?? []) => {
      offers.delete(peer);
      targets.add(peer);
      if (offer.length === 0) return;
      const held = await this.#offerAndPush(peer, "handoff", offer, report, failed);
      const not = offer.filter((_, i) => !held[i]);
      if (not.length > 0) waiting.set(peer, [...(waiting.get(peer) ?? []), ...not]);
    };
    let seen = 0;
    for (const [key, entry] of store.entries()) {
      if (++seen % PAGE_KEYS === 0) await this.#yield();
      if (this.#o.topology.layout !== layout) return false; // a later epoch: its own round streams
      const position = ringPosition(key);
      if (!layout.changes(position) || !layout.oldOwners(position).includes(self)) continue;
      for (const peer of layout.newOwners(position)) {
        if (peer === self) continue;
        if (failed.has(peer)) {
          complete = false;
          continue;
        }
        let list = offers.get(peer);
        if (!list) offers.set(peer, (list = []));
        list.push({ key, entry });
        if (list.length >= PAGE_KEYS) await flush(peer);
      }
    }
    await Promise.all([...offers.keys()].map((peer) => flush(peer)));
    // Keys another old owner was sending: offered again until held, while its pushes land.
    for (let tries = 0; waiting.size > 0 && tries < STREAM_RETRIES; tries++) {
      await sleep(this.#o.env.clock, STREAM_RETRY_MS);
      if (this.#o.topology.layout !== layout) return false;
      const again = [...waiting];
      waiting.clear();
      await Promise.all(again.map(([peer, list]) => (failed.has(peer) ? undefined : flush(peer, list))));
    }
    const reached = [...targets].every((peer) => !failed.has(peer));
    return complete && reached && waiting.size === 0 && this.#o.topology.layout === layout;
  }

  /**
   * Offers `candidates` to `peer` and pushes the ones it wants. Returns, per candidate,
   * whether the peer now holds it (it had it, or the push landed); a key another member
   * promised to send it is not held yet.
   */
  async #offerAndPush(peer: string, reason: PushReason, candidates: Candidate[], report: RoundReport, failed: Set<string>): Promise<boolean[]> {
    const held = candidates.map(() => false);
    if (failed.has(peer)) return held;
    try {
      const wanted: number[] = [];
      for (let i = 0; i < candidates.length; i += MAX_OFFER_KEYS) {
        const chunk = candidates.slice(i, i + MAX_OFFER_KEYS);
        const reply = decodeOfferReply(await this.#send(peer, "/_kv/offer", encodeOfferRequest({ from: this.#o.self, keys: chunk.map((c) => [c.key, c.entry.version]) })));
        report.keysOffered += chunk.length;
        this.#transfer(peer).keysOffered += chunk.length;
        const notHeld = new Set([...reply.want, ...reply.pending]);
        chunk.forEach((_, j) => (held[i + j] = !notHeld.has(j)));
        for (const j of reply.want) if (j < chunk.length) wanted.push(i + j);
      }
      if (await this.#pushAll(peer, reason, wanted.map((i) => candidates[i]!), report, failed)) for (const i of wanted) held[i] = true;
    } catch {
      failed.add(peer);
    }
    return held;
  }

  /** Pushes entries in messages of bounded bytes, paced by the throttle; true if all landed. */
  async #pushAll(peer: string, reason: PushReason, candidates: Candidate[], report: RoundReport, failed: Set<string>): Promise<boolean> {
    let batch: Candidate[] = [];
    let bytes = 0;
    const send = async () => {
      if (batch.length === 0) return;
      const entries = batch.map((c): [string, Entry] => [c.key, c.entry]);
      const sent = bytes;
      batch = [];
      bytes = 0;
      await this.#throttle.take(sent);
      decodePushReply(await this.#send(peer, "/_kv/push", encodePushRequest({ from: this.#o.self, reason, entries })));
      report.keysPushed += entries.length;
      report.bytesPushed += sent;
      this.#counters.keysSent.inc([], entries.length);
      const t = this.#transfer(peer);
      t.keysPushed += entries.length;
      t.bytesPushed += sent;
      this.#counters.bytesSent.inc([], sent);
    };
    try {
      for (const c of candidates) {
        const size = keyBytes(c.key) + c.entry.value.byteLength + 64;
        if (batch.length > 0 && (bytes + size > PUSH_BYTES || batch.length >= MAX_OFFER_KEYS)) await send();
        batch.push(c);
        bytes += size;
      }
      await send();
      return true;
    } catch {
      failed.add(peer);
      return false;
    }
  }

  #transfer(peer: string): Transfer {
    let t = this.#transfers.get(peer);
    if (!t) this.#transfers.set(peer, (t = { peer, bucketsDiffering: 0, keysOffered: 0, keysPushed: 0, bytesPushed: 0 }));
    return t;
  }

  async #send(peer: string, path: string, body: Uint8Array): Promise<Uint8Array> {
    const reply = await sendWithTimeout(this.#o.env, peer, path, body, SYNC_TIMEOUT_MS);
    if (reply.status !== 200) throw new Error(`${peer}${path} answered ${reply.status}`);
    return reply.body;
  }

  #yield(): Promise<void> {
    return sleep(this.#o.env.clock, 0);
  }
}

/** The generation recorded for a round over an empty store: settled on any ring. */
const EMPTY = -2;

function emptyReport(): RoundReport {
  return { startedAt: 0, durationMs: 0, keysScanned: 0, keysOffered: 0, keysPushed: 0, bytesPushed: 0, keysHandedOff: 0, keysUnconfirmed: 0, bucketsDiffering: 0, peersFailed: [], transfers: [] };
}

function quiet(r: RoundReport): boolean {
  return r.keysPushed === 0 && r.keysHandedOff === 0 && r.keysUnconfirmed === 0 && r.peersFailed.length === 0;
}

function sleep(clock: Pick<Env["clock"], "setTimeout">, ms: number): Promise<void> {
  return new Promise((resolve) => clock.setTimeout(resolve, ms));
}
