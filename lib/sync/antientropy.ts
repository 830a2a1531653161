/**
 * Anti-entropy: for each peer it shares keys with, this node summarises the shared keys in
 * fixed buckets (digest.ts) and sends the summaries; the peer answers with the buckets that
 * differ, whose keys are then offered (and the ones the peer lacks pushed). A member that
 * died is off the ring, so its ranges' new owners come out of this empty-handed and are
 * filled. The peer's own rounds send the other way.
 */
import { halvesReader, type PositionHalves } from "../ring/hash.ts";
import type { Entry } from "../store/store.ts";
import type { Version } from "../store/version.ts";
import { BucketDigests, bucketOf } from "./digest.ts";
import { decodeDigestReply, encodeDigestRequest } from "../wire/sync.ts";
import { PAGE_KEYS, type SyncContext, yieldToLoop } from "./context.ts";
import { PeerOffers, type Round } from "./round.ts";
import type { SyncTokens } from "./tokens.ts";

/** Per-peer summaries of the keys this node shares with each, from one walk over the store. */
export interface DigestTables {
  epoch: number;
  byPeer: Map<string, BucketDigests>;
  /**
   * The store's count of changes (Store.changes) these summaries include: the count when
   * the walk began, or the latest one while they are kept true (live_tables.ts).
   */
  changes: number;
  /** Keys found, or changed since, that this node does not own: a walk hands them off. */
  unowned: number;
}

/** Whether `tables` are of the ring of `epoch` and hold every change the store counted: what a peer's digest is answered from. */
export function summariesCurrent(tables: DigestTables | undefined, epoch: number, changes: number): tables is DigestTables {
  return tables !== undefined && tables.epoch === epoch && tables.changes === changes;
}

/**
 * Whether a new walk would find what `tables` hold: they are current, and no key they met
 * is to be handed off. A round then compares the same summaries again without walking
 * every key; a peer that lost or missed data still differs from them, and its buckets are
 * repaired as before.
 */
export function summariesStillHold(tables: DigestTables | undefined, epoch: number, changes: number): tables is DigestTables {
  return summariesCurrent(tables, epoch, changes) && tables.unowned === 0;
}

/** A walk in progress: its summaries so far, and the first slot it has not reached. */
export interface Walk {
  readonly tables: DigestTables;
  next: number;
}

export function startWalk(ctx: SyncContext): Walk {
  return { tables: { epoch: ctx.topology.epoch, byPeer: new Map(), changes: ctx.store.changes, unowned: 0 }, next: 0 };
}

/**
 * One walk over the store: builds the per-peer summaries of shared keys and calls
 * `notOwned` for each key this node holds without owning it. Returns the keys seen.
 * A key is placed from its bytes where the store keeps them; only a key to hand off is
 * decoded. What a slot holds is read before anything awaits (Store.slots), and slots are
 * walked in order, so `walk.next` tells a change behind the walk from one ahead of it.
 */
export async function scanStore(
  ctx: SyncContext,
  notOwned: (key: string, entry: Entry, owners: readonly string[]) => Promise<void>,
  onPage: (seen: number) => void = () => {},
  walk: Walk = startWalk(ctx),
): Promise<{ seen: number; tables: DigestTables }> {
  const { store } = ctx;
  const { tables } = walk;
  const place = halvesReader();
  let seen = 0;
  for (const slot of store.slots()) {
    const halves = store.readKey(slot, place);
    const owners = ctx.owners(halves);
    walk.next = slot + 1;
    if (!owners.includes(ctx.self)) {
      tables.unowned++;
      await notOwned(store.keyAt(slot), store.entryAt(slot), owners);
    } else summarise(tables, owners, ctx.self, halves, undefined, store.versionAt(slot));
    if (++seen % PAGE_KEYS === 0) {
      onPage(seen);
      await yieldToLoop(ctx);
    }
  }
  return { seen, tables };
}

/** A shared key's version `before` out of the summaries for each other owner, and `after` in (either absent: none). */
export function summarise(tables: DigestTables, owners: readonly string[], self: string, halves: PositionHalves, before: Version | undefined, after: Version | undefined): void {
  const bucket = bucketOf(halves.high);
  for (const peer of owners) {
    if (peer === self) continue;
    let digests = tables.byPeer.get(peer);
    if (!digests) tables.byPeer.set(peer, (digests = new BucketDigests()));
    if (before) digests.remove(bucket, halves.low, before);
    if (after) digests.add(bucket, halves.low, after);
  }
}

/**
 * Asks each peer which of the shared buckets differ: peer → (bucket → its count). Each
 * digest confirms the peer's token of a round that completed since (tokens.ts), and takes
 * a new one.
 */
export async function compareDigests(round: Round, byPeer: Map<string, BucketDigests>, tokens: SyncTokens): Promise<Map<string, Map<number, number>>> {
  const differing = new Map<string, Map<number, number>>();
  await Promise.all(
    [...byPeer].map(async ([peer, digests]) => {
      try {
        const request = encodeDigestRequest({ from: round.ctx.self, buckets: digests.summaries(), synced: tokens.toConfirm(peer) });
        const reply = decodeDigestReply(await round.send(peer, "/_kv/digest", request));
        if (reply.token !== undefined) tokens.received(peer, reply.token);
        if (reply.differ.length > 0) {
          differing.set(peer, new Map(reply.differ));
          round.transfer(peer).bucketsDiffering = reply.differ.length;
        }
      } catch {
        round.failed.add(peer);
      }
    }),
  );
  return differing;
}

/**
 * The keys of differing buckets, offered. Always offered, even to a peer holding none of a
 * bucket: a (key, version) pair is a fraction of an entry, and the offer is what lets the
 * peer take each entry from one owner only.
 */
export async function repair(round: Round, differing: Map<string, Map<number, number>>): Promise<void> {
  const { ctx } = round;
  const offers = new PeerOffers(round, "repair");
  round.progress.begin("anti-entropy", ctx.store.size, ctx.env.clock.monotonicMs());
  const { store } = ctx;
  const place = halvesReader();
  let seen = 0;
  for (const slot of store.slots()) {
    const halves = store.readKey(slot, place);
    const owners = ctx.owners(halves);
    const bucket = bucketOf(halves.high);
    let offered: { key: string; entry: Entry } | undefined;
    if (owners.includes(ctx.self)) {
      for (const peer of owners) {
        if (!differing.get(peer)?.has(bucket) || round.failed.has(peer)) continue;
        offered ??= { key: store.keyAt(slot), entry: store.entryAt(slot) }; // before the first await
        await offers.add(peer, offered);
      }
    }
    if (++seen % PAGE_KEYS === 0) {
      round.progress.seen = seen;
      await yieldToLoop(ctx);
    }
  }
  round.progress.seen = seen;
  await offers.flushAll();
}
