/**
 * Listing keys (`GET /d?prefix=&after=&limit=`): one page from every owner at once, merged.
 *
 * Each owner answers the entries it holds after `after`, at most `limit`, in key order
 * (answer.ts). Keys hash all over the ring, so every owner is asked; a range counts as read
 * once R of its read owners answered (else 503, as a read would), which is what makes a key
 * whose write was acknowledged before the listing began appear: W of its owners hold it and
 * R answered. An entry counts only from an owner of its key, newest version first, and a
 * key is listed only if that entry is live (not a tombstone, not expired). A key an owner
 * names with a conditional write accepted above what it stores (acknowledged, perhaps,
 * before its commit landed) is read through the quorum path, which settles it. An owner that
 * had more than `limit` bounds the page: nothing after its last key is known yet, so the
 * page ends there and `next` says where to go on. No node ever holds more than a page.
 */
import { type Env, sendWithTimeout } from "../env.ts";
import { ringPosition } from "../ring/hash.ts";
import { type Entry, expiredBy } from "../store/store.ts";
import { compareVersions } from "../store/version.ts";
import { isGhost, type Placement } from "../topology/placement.ts";
import { StaleEpochError } from "../topology/topology.ts";
import type { Placer } from "../replication/placed.ts";
import { QuorumError, quorumSizes } from "../replication/quorum.ts";
import { refusedEpoch } from "../wire/replica.ts";
import { decodeListReply, encodeListRequest, LIST_PATH, type ListedEntry, type ListReply, type ListRequest, MAX_INLINE_VALUE_BYTES } from "../wire/listing.ts";

export interface ListingOptions {
  self: string;
  placer: Placer;
  config: { replicas: number; writeQuorum: number; readQuorum: number; replicaTimeoutMs: number; expirySkewMs?: number };
  env: Pick<Env, "clock" | "transport">;
  /** This node's own answer (answer.ts over its store). */
  local(request: ListRequest): ListReply;
  /** A quorum read of one key (the coordinator's): for keys an owner named with a conditional write accepted above what it stores. */
  read(key: string): Promise<Entry | undefined>;
}

export type PageQuery = Omit<ListRequest, "epoch">;

export interface Page {
  keys: string[];
  /** The `after` of the next page; null when this was the last. */
  next: string | null;
  /** With `values`: each key's value, or null when it was too large to carry inline. */
  values?: Array<Uint8Array | null>;
}

/** Epochs a page is tried in at most: a ring change in the middle of one is caught up with. */
const MAX_EPOCHS = 4;

export function lister(o: ListingOptions): (query: PageQuery) => Promise<Page> {
  return async (query) => {
    for (let attempt = 1; ; attempt++) {
      if (!o.placer.ranges) throw new Error("listing needs a placer that can enumerate its ranges (the agreed ring's)");
      const ranges = o.placer.ranges();
      const epoch = ranges[0]?.epoch ?? 0;
      const replies = await askOwners(o, ranges, { ...query, epoch });
      if (replies.stale > epoch && attempt < MAX_EPOCHS) {
        await o.placer.catchUp(replies.stale, replies.stalePeer);
        continue;
      }
      for (const p of ranges) {
        const { r } = quorumSizes(o.config, p.read.length);
        const answered = p.read.filter((m) => replies.byOwner.has(m)).length;
        if (answered < r) throw new QuorumError("list", answered, r, { epoch, owners: p.read, answeredBy: p.read.filter((m) => replies.byOwner.has(m)) });
      }
      return merge(o, replies.byOwner, query, await readPending(o, replies.byOwner));
    }
  };
}

async function askOwners(o: ListingOptions, ranges: Placement[], request: ListRequest) {
  const owners = [...new Set(ranges.flatMap((p) => [...p.read, ...p.writes.flat()]))].filter((m) => !isGhost(m));
  const byOwner = new Map<string, ListReply>();
  let stale = 0;
  let stalePeer: string | undefined;
  const body = encodeListRequest(request);
  await Promise.all(owners.map(async (m) => {
    try {
      if (m === o.self) return void byOwner.set(m, o.local(request));
      const reply = await sendWithTimeout(o.env, m, LIST_PATH, body, o.config.replicaTimeoutMs);
      if (reply.status === 409 && refusedEpoch(reply.body) > stale) {
        stale = refusedEpoch(reply.body);
        stalePeer = m;
      }
      if (reply.status === 200) byOwner.set(m, decodeListReply(reply.body));
    } catch (err) {
      if (err instanceof StaleEpochError && err.epoch > stale) stale = err.epoch; // this node's own gate refused
    }
  }));
  return { byOwner, stale, stalePeer };
}

/**
 * Keys an owner named with a conditional write accepted above what it stores: it may be
 * chosen and answered before its commit lands, so each is read through the quorum path,
 * which settles it by Paxos. Their entries as the read found them (undefined: absent).
 */
async function readPending(o: ListingOptions, byOwner: ReadonlyMap<string, ListReply>): Promise<Map<string, ListedEntry | undefined>> {
  const keys = new Set<string>();
  for (const [owner, reply] of byOwner) for (const [key] of reply.pending ?? []) if (holds(o.placer, owner, key)) keys.add(key);
  const found = new Map<string, ListedEntry | undefined>();
  await Promise.all([...keys].map(async (key) => {
    const entry = await o.read(key);
    found.set(key, entry && { key, version: entry.version, tombstone: false, ...(entry.value.byteLength <= MAX_INLINE_VALUE_BYTES ? { value: entry.value } : {}) });
  }));
  return found;
}

function merge(o: ListingOptions, byOwner: ReadonlyMap<string, ListReply>, query: PageQuery, settled: ReadonlyMap<string, ListedEntry | undefined>): Page {
  let bound: string | undefined;
  for (const reply of byOwner.values()) {
    const last = reply.entries.at(-1)?.key;
    if (reply.more && last !== undefined && (bound === undefined || last < bound)) bound = last;
  }
  const newest = new Map<string, ListedEntry>();
  for (const [owner, reply] of byOwner) {
    for (const entry of reply.entries) {
      if (bound !== undefined && entry.key > bound) break;
      if (!holds(o.placer, owner, entry.key)) continue;
      const seen = newest.get(entry.key);
      if (!seen || compareVersions(entry.version, seen.version) > 0 || (compareVersions(entry.version, seen.version) === 0 && !seen.value)) newest.set(entry.key, entry);
    }
  }
  // A read that settled a key answers for it, being later than every owner's page.
  for (const [key, entry] of settled) {
    if (bound !== undefined && key > bound) continue;
    if (entry) newest.set(key, entry);
    else newest.delete(key);
  }
  const horizon = o.env.clock.now() + (o.config.expirySkewMs ?? 0);
  const keys: string[] = [];
  const values: Array<Uint8Array | null> = [];
  for (const key of [...newest.keys()].sort()) {
    const entry = newest.get(key)!;
    if (entry.tombstone || expiredBy(entry, horizon)) continue;
    keys.push(key);
    values.push(entry.value ?? null);
    if (keys.length === query.limit) return { keys, next: key, ...(query.values ? { values } : {}) };
  }
  return { keys, next: bound ?? null, ...(query.values ? { values } : {}) };
}

/** Whether `owner` holds `key` in the latest epoch (old or new owner, or a pinned range's). */
function holds(placer: Placer, owner: string, key: string): boolean {
  const p = placer.place(ringPosition(key));
  return p.read.includes(owner) || p.writes.some((set) => set.includes(owner));
}
