/**
 * Stabilisation: every key back on its N replicas after the ring changes, and replicas
 * that drifted apart brought level. One loop, in rounds (on a ring change, and every
 * --sync-interval-ms), each a few passes over the store in pages:
 *
 * 1. Hand-off (handoff.ts): keys this node holds but no longer owns go to their owners.
 * 2. Streaming (stream.ts): while ranges move, what this node holds of them goes to their
 *    new owners, and the topology hears when it all arrived.
 * 3. Anti-entropy (antientropy.ts): bucket summaries of shared keys compared with each
 *    peer, and the keys of differing buckets offered.
 *
 * The receiving side is receiver.ts; the round's dealings with peers are round.ts. Entries
 * are referenced, never copied wholesale: pages of keys and pushes of bounded bytes, paced
 * by a byte-rate throttle, with a yield to the event loop between pages.
 */
import type { Env } from "../env.ts";
import type { Metrics } from "../metrics.ts";
import type { NodeState } from "../node_state.ts";
import type { Replica } from "../replication/replica.ts";
import { ringPosition } from "../ring/hash.ts";
import type { Store } from "../store/store.ts";
import type { Topology } from "../topology/topology.ts";
import { compareDigests, type DigestTables, repair, summariesCurrent, summariesStillHold } from "./antientropy.ts";
import { type AcceptedProposals, PAGE_KEYS, sleep, type SyncConfig, type SyncContext, syncCounters } from "./context.ts";
import { handOffPage, type HandoffCandidate } from "./handoff.ts";
import { LiveTables } from "./live_tables.ts";
import { SyncReceiver } from "./receiver.ts";
import { emptyReport, quiet, Round, type RoundReport } from "./round.ts";
import { ProgressLog } from "./progress_log.ts";
import { streamMovingRanges } from "./stream.ts";
import { Throttle } from "./throttle.ts";
import { SyncTokens } from "./tokens.ts";

export type { SyncConfig } from "./context.ts";
export type { RoundReport, Transfer } from "./round.ts";

export interface SyncerOptions {
  self: string;
  store: Store;
  topology: Topology;
  replica: Replica;
  state: NodeState;
  env: Pick<Env, "clock" | "transport" | "log">;
  config: SyncConfig;
  metrics: Metrics;
  accepted?: AcceptedProposals;
  /** Whether SWIM holds a peer alive (absent: every peer). */
  isAlive?: (peer: string) => boolean;
}

/** Ring changes arrive in bursts (a joiner learning everyone); one round follows the burst. */
const RING_CHANGE_DELAY_MS = 200;
/** A round that moved data is followed by another soon, to confirm the cluster is level. */
const MIN_FOLLOW_UP_MS = 1_000;
/** The epoch recorded for a round over an empty store: settled on any ring. */
const EMPTY = -2;

export class Syncer {
  readonly receiver: SyncReceiver;
  readonly #o: SyncerOptions;
  readonly #ctx: SyncContext;
  readonly #throttle: Throttle;
  #timer: unknown;
  readonly #progress: ProgressLog;
  #dueAt = 0;
  #running: Promise<void> | undefined;
  #again = false;
  #stopped = false;
  #last: RoundReport | undefined;
  /** The round in progress, for /cluster/sync's view of what moves to whom. */
  #current: Round | undefined;
  /** Per-peer summaries from the latest walk, kept true as the store changes; also answer peers' digests. */
  readonly #live: LiveTables;
  /** The ring epoch the last round ran on. */
  #lastEpoch = -1;
  /** What anti-entropy can promise about this node and each peer (tokens.ts). */
  readonly tokens = new SyncTokens();

  constructor(options: SyncerOptions) {
    this.#o = options;
    this.#progress = new ProgressLog(options.env);
    const { self, store, topology, env, config, state } = options;
    const counters = syncCounters(options.metrics);
    this.#ctx = {
      self,
      store,
      topology,
      env,
      config,
      counters,
      accepted: options.accepted,
      isAlive: options.isAlive ?? (() => true),
      owners(position) {
        const holders = topology.layout.holdersOfHalves(position);
        return state.leaving ? holders.filter((m) => m !== self) : holders;
      },
    };
    this.#live = new LiveTables(this.#ctx);
    store.listener = this.#live;
    this.#throttle = new Throttle(env.clock, config.syncBytesPerSec);
    this.receiver = new SyncReceiver({
      store,
      replica: options.replica,
      clock: env.clock,
      counters,
      leaving: () => state.leaving,
      tables: () => this.#freshTables(),
      tokens: this.tokens,
      received: () => {
        if (!this.#stopped) this.#within(this.#followUpMs());
      },
    });
    options.metrics.gauge("dht_sync_transfers", "Members this node is pushing entries to right now", () => this.#current?.transfers.size ?? 0);
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
    this.#progress.stop();
  }

  /**
   * The ring changed: a round soon. A round already due sooner stays, so a stream of
   * changes (a cluster forming) gets a round every RING_CHANGE_DELAY_MS, not none.
   */
  ringChanged(): void {
    this.#live.forget();
    this.#within(RING_CHANGE_DELAY_MS);
  }

  /**
   * Graceful leave: from now on this node owns nothing, so rounds hand every key to the
   * members that take over; resolves once none is left unconfirmed, or at the deadline.
   */
  async leave(timeoutMs: number): Promise<{ handedOff: boolean; remaining: number }> {
    this.#o.state.startLeaving();
    this.#live.forget();
    const { clock } = this.#o.env;
    const deadline = clock.monotonicMs() + timeoutMs;
    for (;;) {
      await this.runRound();
      const remaining = this.#last?.keysUnconfirmed ?? 0;
      if (remaining === 0) return { handedOff: true, remaining };
      // Every other member leaving too (a whole cluster shutting down): nobody to wait for.
      if (this.#o.topology.staying().length === 0) return { handedOff: false, remaining };
      if (clock.monotonicMs() >= deadline) return { handedOff: false, remaining };
      await sleep(clock, Math.min(500, deadline - clock.monotonicMs()));
    }
  }

  status() {
    const last = this.#last;
    const onRing = this.#lastEpoch === EMPTY ? this.#o.store.size === 0 : this.#lastEpoch === this.#o.topology.epoch;
    return {
      leaving: this.#o.state.leaving,
      running: this.#running !== undefined,
      /** True when the last round ran on the current ring and found nothing to move. */
      settled: this.#running === undefined && last !== undefined && quiet(last) && onRing,
      /** The round in progress: its pass, how far, how fast, the time left; and what is moving to whom. */
      ...this.#inProgress(),
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
        this.#current = undefined;
        this.#progress.stop();
        if (this.#again && !this.#stopped) {
          this.#again = false;
          void this.runRound();
        }
      });
    return this.#running;
  }

  #inProgress() {
    if (!this.#current) return { transfers: [] };
    const { transfers, ...progress } = this.#current.view();
    return { progress, transfers };
  }

  // --- scheduling ---

  #schedule(ms: number): void {
    if (this.#stopped) return;
    const { clock } = this.#o.env;
    if (this.#timer !== undefined) clock.clearTimeout(this.#timer);
    this.#dueAt = clock.monotonicMs() + ms;
    this.#timer = clock.setTimeout(() => {
      this.#timer = undefined;
      void this.runRound().then(() => {
        if (this.#timer !== undefined || this.#stopped) return;
        const busy = this.#last !== undefined && !quiet(this.#last);
        this.#schedule(busy ? this.#followUpMs() : this.#o.config.syncIntervalMs);
      });
    }, ms);
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

  // --- a round ---

  async #round(): Promise<void> {
    const { clock } = this.#o.env;
    const { topology, store } = this.#o;
    const epoch = topology.epoch;
    if (store.size === 0 && !this.#ctx.accepted?.keys().length) {
      // Nothing to hand off, stream or compare (not even a conditional write accepted here, uncommitted).
      topology.markStreamed(epoch);
      this.#last = emptyReport(clock.now());
      this.#lastEpoch = EMPTY;
      return;
    }
    const started = clock.monotonicMs();
    const tokens = this.tokens.snapshot(); // given before this round's scan: confirmed if it completes
    const round = (this.#current = new Round(this.#ctx, this.#throttle, clock.now()));
    this.#progress.start(round, () => this.#current);

    // Hand off what this node no longer owns, a page at a time, and summarise the rest;
    // unless the summaries of the last walk still hold, with nothing to hand off.
    let tables = this.#live.tables;
    if (summariesStillHold(tables, epoch, store.changes)) round.summariesReused = true;
    else {
      let page: HandoffCandidate[] = [];
      const flush = () => handOffPage(round, page.splice(0));
      round.progress.begin("hand-off", store.size, clock.monotonicMs());
      const scan = await this.#live.walk(async (key, entry, owners) => {
        page.push({ key, entry, owners });
        if (page.length >= PAGE_KEYS) await flush();
      }, (seen) => (round.progress.seen = seen));
      await flush();
      tables = scan.tables;
      round.keysScanned = round.progress.seen = scan.seen;
    }

    if (topology.layout.moving) {
      const streamed = await streamMovingRanges(round);
      if (streamed) topology.markStreamed(epoch, streamed.unreached);
    }

    const differing = await compareDigests(round, tables.byPeer, this.tokens);
    if (differing.size > 0) await repair(round, differing);
    for (const peer of tables.byPeer.keys()) if (round.complete(peer)) this.tokens.completed(peer, tokens);

    const report = round.report(clock.monotonicMs() - started);
    this.#last = report;
    this.#lastEpoch = epoch;
    this.#ctx.counters.rounds.inc();
    if (!quiet(report)) {
      const { transfers: _, ...line } = report;
      this.#o.env.log.info("stabilisation round", { ...line, peersFailed: report.peersFailed.join(",") });
    }
  }

  async #freshTables(): Promise<DigestTables> {
    // Kept true as the store changes: walked again only on a new ring (keys to hand off are the rounds' business).
    const t = this.#live.tables;
    if (summariesCurrent(t, this.#o.topology.epoch, this.#o.store.changes)) return t;
    return (await this.#live.walk(() => Promise.resolve())).tables;
  }
}
