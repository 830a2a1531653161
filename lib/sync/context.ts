/** What every part of a stabilisation round reads: the node's store, ring and settings. */
import type { Env } from "../env.ts";
import type { PositionHalves } from "../ring/hash.ts";
import type { Metrics } from "../metrics.ts";
import type { Store } from "../store/store.ts";
import type { Topology } from "../topology/topology.ts";

export interface SyncConfig {
  replicas: number;
  syncIntervalMs: number;
  syncBytesPerSec: number;
}

/** Keys per page of a pass, and between yields to the event loop. */
export const PAGE_KEYS = 1_000;
/** How long a peer gets to answer one stabilisation message. */
export const SYNC_TIMEOUT_MS = 5_000;

export interface SyncContext {
  readonly self: string;
  readonly store: Store;
  /** The agreed ring: who should hold each key, and where ranges are moving. */
  readonly topology: Topology;
  readonly env: Pick<Env, "clock" | "transport" | "log">;
  readonly config: SyncConfig;
  readonly counters: SyncCounters;
  /**
   * The members that should hold a key at `position`: its owners in the agreed ring, old
   * and new while it moves. A node handing off before it exits counts itself out.
   */
  owners(position: PositionHalves): readonly string[];
  /** Conditional writes this node accepted but does not store, and the Paxos round that settles one (absent: tests' control). */
  readonly accepted?: AcceptedProposals;
  /** Whether SWIM holds a peer alive: a request to one that got no answer is tried again (round.ts). */
  isAlive(peer: string): boolean;
}

export interface AcceptedProposals {
  keys(): string[];
  finish(key: string): Promise<void>;
}

export type SyncCounters = ReturnType<typeof syncCounters>;

export function syncCounters(m: Metrics) {
  return {
    rounds: m.counter("dht_sync_rounds_total", "Stabilisation rounds run (hand-off and anti-entropy)"),
    rebalanced: m.counter("dht_rebalanced_keys_total", "Entries stored here that another member handed off (it no longer owns them)"),
    repairs: m.counter("dht_antientropy_repairs_total", "Entries stored here because anti-entropy found this replica behind"),
    handedOff: m.counter("dht_keys_handed_off_total", "Entries dropped here after every new owner confirmed them"),
    bytesSent: m.counter("dht_sync_bytes_sent_total", "Bytes of entries pushed to other members by stabilisation"),
    keysSent: m.counter("dht_sync_keys_sent_total", "Entries pushed to other members by stabilisation"),
    bytesReceived: m.counter("dht_sync_bytes_received_total", "Bytes of entries received from other members by stabilisation"),
  };
}

export function sleep(clock: Pick<Env["clock"], "setTimeout">, ms: number): Promise<void> {
  return new Promise((resolve) => clock.setTimeout(resolve, ms));
}

/** Between pages: lets client requests run. */
export function yieldToLoop(ctx: SyncContext): Promise<void> {
  return sleep(ctx.env.clock, 0);
}
