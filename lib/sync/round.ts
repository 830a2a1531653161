/**
 * One stabilisation round's dealings with peers: offers of (key, version) lists, pushes of
 * the entries a peer lacks, and what moved to whom. The round's totals are sums over its
 * per-peer transfers, so the two can never disagree.
 */
import { sendWithTimeout } from "../env.ts";
import type { Entry } from "../store/store.ts";
import { keyBytes } from "../store/store.ts";
import {
  decodeOfferReply,
  decodePushReply,
  encodeOfferRequest,
  encodePushRequest,
  MAX_OFFER_KEYS,
  type PushReason,
} from "../wire/sync.ts";
import { PAGE_KEYS, sleep, SYNC_TIMEOUT_MS, type SyncContext } from "./context.ts";
import type { Throttle } from "./throttle.ts";
import { etaMs, perSecond, Progress, type ProgressView } from "./progress.ts";

/** Tries of one sync request that got no answer from a peer SWIM holds alive, and the pause before each retry (times the try). */
const SEND_TRIES = 3;
const RETRY_PAUSE_MS = 100;

/** Bytes of values per push message (one larger value goes alone). */
const PUSH_BYTES = 256 * 1024;
/**
 * Under a low --sync-bytes-per-sec, a push carries a quarter second's worth at most (but
 * no less than this), so data moves in a steady stream rather than one burst per wait.
 */
const MIN_PUSH_BYTES = 4 * 1024;

export interface Candidate {
  key: string;
  entry: Entry;
}

export interface Transfer {
  peer: string;
  /** Buckets (1/1,024 of the ring each) whose shared keys differed from the peer's. */
  bucketsDiffering: number;
  keysOffered: number;
  /** Keys the peer asked for: what this round will push it, once it gets there. */
  keysWanted: number;
  keysPushed: number;
  bytesPushed: number;
}

/** A transfer as the dashboard and /cluster/sync show it while it runs. */
export type TransferView = Transfer & { keysPerSec: number; bytesPerSec: number; etaMs?: number };

/** What one round did, for /cluster/sync and for knowing when the cluster has settled. */
export interface RoundReport {
  startedAt: number;
  durationMs: number;
  keysScanned: number;
  /** The summaries kept true since the last walk still held (antientropy.ts, `summariesStillHold`): compared again, and no key walked. */
  summariesReused: boolean;
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

export function emptyReport(startedAt = 0): RoundReport {
  return { startedAt, durationMs: 0, keysScanned: 0, summariesReused: false, keysOffered: 0, keysPushed: 0, bytesPushed: 0, keysHandedOff: 0, keysUnconfirmed: 0, bucketsDiffering: 0, peersFailed: [], transfers: [] };
}

/** A round that moved nothing and reached everyone. */
export function quiet(r: RoundReport): boolean {
  return r.keysPushed === 0 && r.keysHandedOff === 0 && r.keysUnconfirmed === 0 && r.peersFailed.length === 0;
}

export class Round {
  readonly failed = new Set<string>();
  /** Peers that left some offered key to another member's promised push: not complete from this node alone. */
  readonly leftPending = new Set<string>();
  readonly transfers = new Map<string, Transfer>();
  keysScanned = 0;
  summariesReused = false;
  keysHandedOff = 0;
  keysUnconfirmed = 0;
  readonly progress: Progress;

  constructor(readonly ctx: SyncContext, readonly throttle: Throttle, readonly startedAt: number) {
    this.progress = new Progress(ctx.env.clock.monotonicMs());
  }

  /** A count summed over the round's per-peer transfers: the one source of its totals. */
  total(field: "keysOffered" | "keysWanted" | "keysPushed" | "bytesPushed" | "bucketsDiffering"): number {
    let n = 0;
    for (const t of this.transfers.values()) n += t[field];
    return n;
  }

  /** Where the round is, and how fast it moves data, right now. */
  view(): ProgressView & { transfers: TransferView[] } {
    const now = this.ctx.env.clock.monotonicMs();
    const transfers = [...this.transfers.values()];
    const elapsed = now - this.progress.startedAt;
    return {
      ...this.progress.view(now, { keys: this.total("keysPushed"), bytes: this.total("bytesPushed") }),
      transfers: transfers.map((t) => {
        const eta = etaMs(t.keysPushed, t.keysWanted, elapsed);
        return { ...t, keysPerSec: perSecond(t.keysPushed, elapsed), bytesPerSec: perSecond(t.bytesPushed, elapsed), ...(eta === undefined ? {} : { etaMs: eta }) };
      }),
    };
  }

  /** Whether everything this round offered `peer` reached it, or was there already. */
  complete(peer: string): boolean {
    return !this.failed.has(peer) && !this.leftPending.has(peer);
  }

  transfer(peer: string): Transfer {
    let t = this.transfers.get(peer);
    if (!t) this.transfers.set(peer, (t = { peer, bucketsDiffering: 0, keysOffered: 0, keysWanted: 0, keysPushed: 0, bytesPushed: 0 }));
    return t;
  }

  report(durationMs: number): RoundReport {
    return {
      startedAt: this.startedAt,
      durationMs,
      keysScanned: this.keysScanned,
      summariesReused: this.summariesReused,
      keysOffered: this.total("keysOffered"),
      keysPushed: this.total("keysPushed"),
      bytesPushed: this.total("bytesPushed"),
      keysHandedOff: this.keysHandedOff,
      keysUnconfirmed: this.keysUnconfirmed,
      bucketsDiffering: this.total("bucketsDiffering"),
      peersFailed: [...this.failed].sort(),
      transfers: [...this.transfers.values()],
    };
  }

  /**
   * Offers `candidates` to `peer` and pushes the ones it wants. Returns, per candidate,
   * whether the peer now holds it (it had it, or the push landed); a key another member
   * promised to send it is not held yet.
   */
  async offerAndPush(peer: string, reason: PushReason, candidates: Candidate[]): Promise<boolean[]> {
    const held = candidates.map(() => false);
    if (this.failed.has(peer)) return held;
    try {
      const wanted: number[] = [];
      for (let i = 0; i < candidates.length; i += MAX_OFFER_KEYS) {
        const chunk = candidates.slice(i, i + MAX_OFFER_KEYS);
        const offer = encodeOfferRequest({ from: this.ctx.self, keys: chunk.map((c) => [c.key, c.entry.version]) });
        const reply = decodeOfferReply(await this.send(peer, "/_kv/offer", offer));
        const t = this.transfer(peer);
        t.keysOffered += chunk.length;
        t.keysWanted += reply.want.length;
        if (reply.pending.length > 0) this.leftPending.add(peer);
        const notHeld = new Set([...reply.want, ...reply.pending]);
        chunk.forEach((_, j) => (held[i + j] = !notHeld.has(j)));
        for (const j of reply.want) if (j < chunk.length) wanted.push(i + j);
      }
      if (await this.#pushAll(peer, reason, wanted.map((i) => candidates[i]!))) for (const i of wanted) held[i] = true;
    } catch {
      this.failed.add(peer);
    }
    return held;
  }

  /**
   * One request. One that got no answer (a lost message, a dropped connection) is tried
   * again, up to SEND_TRIES, while SWIM holds the peer alive: digests, offers and pushes are
   * idempotent, and a peer that failed once is left out for the rest of the round, which
   * reports a transition's new owner so left out as unreached (the driver drops one
   * unreached for long: topology/driver.ts). With dozens of requests a round, one lost
   * message at 1% loss used to cost a healthy member its place on the ring. A peer held
   * suspect or dead costs one timeout, as before; an answer that is not 200 is final.
   */
  async send(peer: string, path: string, body: Uint8Array): Promise<Uint8Array> {
    for (let attempt = 1; ; attempt++) {
      let reply: { status: number; body: Uint8Array };
      try {
        reply = await sendWithTimeout(this.ctx.env, peer, path, body, SYNC_TIMEOUT_MS);
      } catch (error) {
        if (attempt >= SEND_TRIES || !this.ctx.isAlive(peer)) throw error;
        await sleep(this.ctx.env.clock, RETRY_PAUSE_MS * attempt);
        continue;
      }
      if (reply.status !== 200) throw new Error(`${peer}${path} answered ${reply.status}`);
      return reply.body;
    }
  }

  /** Pushes entries in messages of bounded bytes, paced by the throttle; true if all landed. */
  async #pushAll(peer: string, reason: PushReason, candidates: Candidate[]): Promise<boolean> {
    const limit = Math.max(MIN_PUSH_BYTES, Math.min(PUSH_BYTES, Math.floor(this.ctx.config.syncBytesPerSec / 4)));
    let batch: Candidate[] = [];
    let bytes = 0;
    const send = async () => {
      if (batch.length === 0) return;
      const entries = batch.map((c): [string, Entry] => [c.key, c.entry]);
      const sent = bytes;
      batch = [];
      bytes = 0;
      await this.throttle.take(sent);
      decodePushReply(await this.send(peer, "/_kv/push", encodePushRequest({ from: this.ctx.self, reason, entries })));
      const t = this.transfer(peer);
      t.keysPushed += entries.length;
      t.bytesPushed += sent;
      this.ctx.counters.keysSent.inc([], entries.length);
      this.ctx.counters.bytesSent.inc([], sent);
    };
    try {
      for (const c of candidates) {
        const size = keyBytes(c.key) + c.entry.value.byteLength + 64;
        if (batch.length > 0 && (bytes + size > limit || batch.length >= MAX_OFFER_KEYS)) await send();
        batch.push(c);
        bytes += size;
      }
      await send();
      return true;
    } catch {
      this.failed.add(peer);
      return false;
    }
  }
}

/**
 * Candidates gathered per peer and offered a page at a time: the loop anti-entropy's
 * repair and a transition's streaming share. `held` hears, per offered page, which
 * candidates the peer now holds.
 */
export class PeerOffers {
  readonly #pages = new Map<string, Candidate[]>();

  constructor(
    readonly round: Round,
    readonly reason: PushReason,
    readonly held: (peer: string, page: Candidate[], held: boolean[]) => void = () => {},
  ) {}

  async add(peer: string, candidate: Candidate): Promise<void> {
    let page = this.#pages.get(peer);
    if (!page) this.#pages.set(peer, (page = []));
    page.push(candidate);
    if (page.length >= PAGE_KEYS) await this.offer(peer);
  }

  /** Offers what is gathered for `peer` (or `page` instead). */
  async offer(peer: string, page = this.#pages.get(peer) ?? []): Promise<void> {
    this.#pages.delete(peer);
    if (page.length === 0) return;
    this.held(peer, page, await this.round.offerAndPush(peer, this.reason, page));
  }

  /** Every peer's last, partial page. */
  flushAll(): Promise<void> {
    return Promise.all([...this.#pages.keys()].map((peer) => this.offer(peer))).then(() => {});
  }
}
