/**
 * The coordinator: what the public KV routes call. Any node coordinates any key.
 *
 * Where a key lives comes from the agreed ring (topology/placement.ts): reads ask R of the
 * read owners, writes need W of every write set (one set when the ring is stable; old and
 * new owners while a range moves). Every replica message carries the epoch it was placed
 * in; a replica that knows a later one refuses, and the operation is placed again once
 * this node has caught up (placed.ts).
 *
 * A write first reads the newest version R replicas hold, then stores the entry above it
 * (ABD's two phases, write.ts). A read asks R (the rest only if some fail, gather.ts): the
 * newest version among them, written back to W of every write set first when they
 * disagreed (read.ts). Too few answers in time: a QuorumError (503) with the counts.
 * Messages to replicas go through replica_client.ts.
 */
import type { Env } from "../env.ts";
import { ringPosition } from "../ring/hash.ts";
import type { Entry } from "../store/store.ts";
import type { Hlc, Version } from "../store/version.ts";
import { onlyHere, ownerOfTwoQuorum, type QuorumConfig, type QuorumContext } from "./context.ts";
import type { HintStore } from "./hints.ts";
import { type Placer, Placements } from "./placed.ts";
import { type Consistency, QuorumError } from "./quorum.ts";
import { live, read, readLive, readWithOnePeer } from "./read.ts";
import type { Replica } from "./replica.ts";
import { type BatchObserver, ReplicaClient } from "./replica_client.ts";
import { write } from "./write.ts";
import { inspectKey, type ReplicaCopy } from "./inspect.ts";
import type { Acceptor } from "../cas/acceptor.ts";
import type { Condition } from "../cas/condition.ts";
import { type CasContext, type CasObserver, type CasOutcome, conditionalWrite } from "../cas/propose.ts";
import { finishPending } from "../cas/settle.ts";

export type { Placer } from "./placed.ts";
export type { BatchObserver } from "./replica_client.ts";

export interface Coordinator {
  /** Sends `peer` the writes it missed; those it still does not take are kept. */
  replayHints(peer: string): Promise<number>;
  /** Stores the value; resolves to the entry stored (its version, and its expiry when it has a time to live). */
  put(key: string, write: NewValue, consistency?: Consistency): Promise<Entry>;
  /**
   * The newest live entry, or undefined when the key is absent or deleted; at once (not a
   * promise) when this node is the key's only replica.
   */
  get(key: string, consistency?: Consistency): Entry | undefined | Promise<Entry | undefined>;
  /** Writes a tombstone if a live value is there; resolves to its version, or undefined when none was. */
  delete(key: string, consistency?: Consistency): Promise<Version | undefined>;
  /** Stores the value (or, for `"delete"`, a tombstone) only if `condition` holds: consensus on the key's owners (lib/cas). */
  conditional(key: string, condition: Condition, write: NewValue | "delete"): Promise<CasOutcome>;
  /** The error an operation on `key` failed with, saying so when the key's range lost a quorum of its owners. */
  explain(err: unknown, key: string): unknown;
  /** What each owner of the key holds, asked one by one (no quorum, no repair). */
  inspect(key: string): Promise<{ epoch: number; copies: ReplicaCopy[] }>;
  /**
   * Settles a conditional write accepted for `key` but perhaps not stored: Paxos over its
   * owners now finishes it if it may have been chosen (before a ring transition moves it).
   */
  finishPending(key: string): Promise<void>;
}

/** A value to write: its bytes and content type, and how long it lives (absent: for ever). */
export interface NewValue {
  value: Uint8Array;
  contentType: string;
  ttlMs?: number;
}

export interface CoordinatorOptions {
  self: string;
  /** Where writes a replica missed are kept for replay (hinted handoff). */
  hints: HintStore;
  placer: Placer;
  replica: Replica;
  /** This node's side of conditional writes. */
  acceptor: Acceptor;
  hlc: Hlc;
  env: Pick<Env, "clock" | "transport" | "random">;
  /** `expirySkewMs`: how far behind the clock of the node that wrote an expiring value this node's may run (0 unless given). */
  config: QuorumConfig & { replicaTimeoutMs: number; expirySkewMs?: number };
  /** Told of every batch of replica messages: how many it carried, and its round trip when answered. */
  batches?: BatchObserver;
  /** Told of conditional writes' attempts, wins, failed conditions and lost rounds. */
  cas?: CasObserver;
  /** Faults for tests: a proposer that never commits (it died right after answering); reads that ignore accepted proposals (the control). */
  casFaults?: CasFaults;
}

export interface CasFaults {
  noCommit?: boolean;
  /** Reads, plain writes and listings that ignore accepted proposals (the control). */
  readsIgnorePending?: boolean;
  /** A ring transition that moves keys without finishing the accepted proposals it moves away from (the control). */
  streamIgnoresPending?: boolean;
}

const EMPTY = new Uint8Array(0);

export function quorumCoordinator(options: CoordinatorOptions): Coordinator {
  const { self, placer, replica, acceptor, hlc, env, config, hints, batches } = options;
  const client = new ReplicaClient({ self, replica, acceptor, hints, env, replicaTimeoutMs: config.replicaTimeoutMs, batches });
  const placements = new Placements(placer, client);
  const horizon = () => env.clock.now() + (config.expirySkewMs ?? 0);
  const ctx: QuorumContext = { self, config, client, placements, replica, hlc, horizon };
  /** The entry a write stores, its expiry counted from this node's clock now (whole ms: an integer on the wire). */
  const stored = ({ value, contentType, ttlMs }: NewValue, version: Version): Entry => {
    const entry: Entry = { value, contentType, version, tombstone: false };
    if (ttlMs !== undefined) entry.expires = Math.floor(env.clock.now()) + ttlMs;
    return entry;
  };
  const faults = options.casFaults ?? {};
  const casCtx: CasContext = { ...ctx, clock: env.clock, random: env.random, observer: options.cas, commit: !faults.noCommit };
  if (!faults.readsIgnorePending) ctx.finishPending = casCtx.finishPending = (key, p, seen, round) => finishPending(casCtx, key, p, seen, round);

  return {
    async replayHints(peer) {
      let delivered = 0;
      for (const hint of hints.take(peer)) {
        // A hint is only a shortcut: quorums and stabilisation carry the write anyway. One
        // for a replica that no longer owns the key is dropped, so no copy lands off its owners.
        const p = placer.place(ringPosition(hint.key));
        if (!p.writes.some((set) => set.includes(peer))) continue;
        try {
          // Sent in the epoch of now: a replica at a later one refuses, and the hint is kept.
          await client.put(peer, hint.key, hint.entry, p.epoch);
          delivered++;
        } catch {
          hints.add(peer, hint.key, hint.entry);
        }
      }
      return delivered;
    },
    async put(key, value, consistency = "quorum") {
      let entry: Entry | undefined;
      await write(ctx, key, placer.placeKey(key), consistency, (version) => (entry = stored(value, version)));
      return entry!;
    },
    get(key, consistency = "quorum") {
      const p = placer.placeKey(key);
      // A key only this node holds (a lone node) is answered without a promise: the
      // awaits would be most of such a read's cost.
      if (onlyHere(self, p)) {
        const own = replica.get(key, p.epoch);
        if (!own.pending) return live(own.entry, horizon());
      }
      if (ownerOfTwoQuorum(ctx, p, consistency)) return readWithOnePeer(ctx, key, consistency, p, p.read.indexOf(self));
      return readLive(ctx, key, consistency, p);
    },
    async delete(key, consistency = "quorum") {
      // Found or not follows the same quorum rule as a read; the tombstone goes above it.
      const position = ringPosition(key);
      const { value: latest, placement } = await placements.run(position, placer.place(position), (p) => read(ctx, key, consistency, p));
      if (!latest || !live(latest, horizon())) return undefined;
      return write(ctx, key, placement, consistency, (version) => ({ value: EMPTY, contentType: "", version, tombstone: true }), latest.version);
    },
    conditional(key, condition, write) {
      const make = (version: Version): Entry => (write === "delete" ? { value: EMPTY, contentType: "", version, tombstone: true } : stored(write, version));
      return conditionalWrite(casCtx, key, placer.placeKey(key), condition, make);
    },
    explain(err, key) {
      if (!(err instanceof QuorumError)) return err;
      const lost = placer.lost?.(ringPosition(key));
      return lost ? new QuorumError(err.operation, err.answered, err.needed, { ...err.detail, ...lost }) : err;
    },
    inspect: (key) => inspectKey(placer, client, key),
    async finishPending(key) {
      for (let round = 1; !(await finishPending(casCtx, key, placer.placeKey(key), undefined, round)); round++);
    },
  };
}
