/**
 * The read path: the newest version among R read owners, written back to W of every write
 * set first when they disagreed, so a read can never be followed by one that returns
 * something older.
 */
import { ringPosition } from "../ring/hash.ts";
import { type Entry, expiredBy } from "../store/store.ts";
import type { Placement } from "../topology/placement.ts";
import { onlyHere, type QuorumContext } from "./context.ts";
import { gather } from "./gather.ts";
import { type Consistency, isStale, newest, pendingAbove, QuorumError, quorumSizes } from "./quorum.ts";
import type { GetReply } from "../wire/replica.ts";
import { writeBack } from "./write.ts";

/** An entry as clients see it at `horizon` (QuorumContext's): a tombstone, or an entry expired by then, is no entry. */
export const live = (entry: Entry | undefined, horizon: number) => (entry && !entry.tombstone && !expiredBy(entry, horizon) ? entry : undefined);

/**
 * The newest entry among the read owners (tombstones included), repaired first if they
 * disagreed; or, when one of them accepted a conditional write above every stored version
 * (chosen, perhaps, and answered before its commit landed), what Paxos says was chosen
 * (a round lost to contention reads again). It asks max(R, W) of them: when W answer
 * alike nothing needs writing back, and a key found nowhere is absent only once max(R, W)
 * said so. So every read that completes
 * involves max(R, W) owners, as every write does, which is what lets a fence of a majority
 * of each owner set end an epoch (topology/range_steps.ts).
 */
export async function read(ctx: QuorumContext, key: string, consistency: Consistency, p: Placement, askLast?: string): Promise<Entry | undefined> {
  const { r, w } = quorumSizes(ctx.config, p.read.length, consistency);
  const ask = Math.max(r, w);
  for (let round = 1; ; round++) {
    const { successes, results } = onlyHere(ctx.self, p) ? { successes: 1, results: [ctx.replica.get(key, p.epoch)] } : await gather(ctx.client, key, p.read, ask, p.epoch, askLast);
    const entries = results.map((reply) => reply?.entry);
    const latest = newest(entries);
    const pending = ctx.finishPending && pendingAbove(results, latest);
    const needed = latest || pending ? r : ask;
    if (successes < needed) throw new QuorumError("read", successes, needed, { epoch: p.epoch, owners: p.read, answeredBy: p.read.filter((_, i) => results[i]) });
    if (pending) {
      const seen = new Map(p.read.flatMap((m, i) => (results[i]?.pending ? [[m, results[i]!.pending!] as const] : [])));
      const settled = await ctx.finishPending!(key, p, seen, round);
      if (settled) return settled.entry;
      continue; // lost to contention: read again, the commit has most likely landed by now
    }
    if (latest && !onlyHere(ctx.self, p)) {
      const current = new Set(p.read.filter((_, i) => results[i] !== undefined && !isStale(entries[i], latest)));
      await writeBack(ctx, key, p, latest, current, consistency, "read repair");
    }
    return latest;
  }
}

/** A client's read: the live entry, run again where the key lives now if its epoch is over. */
export function readLive(ctx: QuorumContext, key: string, consistency: Consistency, p: Placement, askLast?: string): Promise<Entry | undefined> {
  return read(ctx, key, consistency, p, askLast).then((entry) => live(entry, ctx.horizon()), (err) => retryRead(ctx, err, key, consistency, p));
}

/**
 * The usual quorum read (R = 2 with this node a replica, ring stable): its own entry and
 * the next replica's, one message and no arrays or races. When the two agree that is the
 * answer (two current copies already make the write quorum); otherwise, or if the peer
 * fails, the general read runs, asking that peer last, since a replica that just failed
 * may be down.
 */
export function readWithOnePeer(ctx: QuorumContext, key: string, consistency: Consistency, p: Placement, selfAt: number): Promise<Entry | undefined> {
  let own: GetReply;
  try {
    own = ctx.client.local(key, p.epoch);
  } catch {
    return readLive(ctx, key, consistency, p); // this node refused its own epoch: ask the others
  }
  if (own.pending) return readLive(ctx, key, consistency, p);
  const peer = p.read[selfAt === 0 ? 1 : 0]!;
  return ctx.client.get(peer, key, p.epoch, own.entry, true).then(
    (reply) => (reply.entry === own.entry && !reply.pending ? live(own.entry, ctx.horizon()) : readLive(ctx, key, consistency, p)),
    () => readLive(ctx, key, consistency, p, peer),
  );
}

/** A read that fell short on an epoch that is over, run again where the key lives now. */
async function retryRead(ctx: QuorumContext, err: unknown, key: string, consistency: Consistency, p: Placement): Promise<Entry | undefined> {
  const position = ringPosition(key);
  const again = await ctx.placements.replaced(err, position, p);
  if (!again) throw err;
  return live((await ctx.placements.run(position, again, (q) => read(ctx, key, consistency, q))).value, ctx.horizon());
}
