/**
 * The write path: ABD's two phases. Learn the newest version a read quorum holds, then
 * store the entry above it on W of every write set (one set when the ring is stable; old
 * and new owners while a range moves).
 */
import { ringPosition } from "../ring/hash.ts";
import type { Entry } from "../store/store.ts";
import { holds, type Version } from "../store/version.ts";
import type { Placement } from "../topology/placement.ts";
import { onlyHere, type QuorumContext, writeNeeds } from "./context.ts";
import { gather } from "./gather.ts";
import type { PutReply } from "../wire/replica.ts";
import { type Consistency, firstQuorums, newest, pendingAbove, QuorumError, quorumSizes } from "./quorum.ts";

/**
 * Stores `entry` until W of every write set hold it (members of `current` already do).
 * A replica that refuses because it holds this very version or a newer one counts (see
 * `write`; store/version.ts `holds` names the one exception). `hint`: leave hints for replicas that do not answer.
 */
export async function storeOn(
  ctx: QuorumContext,
  key: string,
  p: Placement,
  entry: Entry,
  needs: number[],
  current: ReadonlySet<string>,
  hint: boolean,
  operation: string,
): Promise<void> {
  const owners = [...new Set(p.writes.flat())];
  const peers = owners.filter((m) => !current.has(m));
  const held = (x: PutReply) => x.applied || (x.current !== undefined && holds(x.current, entry.version));
  const promises = peers.map((m) => (hint ? ctx.client.putOrHint(m, key, entry, p.epoch) : ctx.client.put(m, key, entry, p.epoch)));
  const result = await firstQuorums(peers, promises, p.writes, needs, held, current);
  if (!result.met) throw new QuorumError(operation, result.counted, result.needed, { epoch: p.epoch, owners });
}

/**
 * A read's answer made durable: `entry` goes back to W of every write set, unless the owners
 * in `holding` (those that answered with exactly it) already make that.
 */
export async function writeBack(ctx: QuorumContext, key: string, p: Placement, entry: Entry, holding: ReadonlySet<string>, consistency: Consistency, operation: string): Promise<void> {
  const needs = writeNeeds(ctx.config, p, consistency);
  if (p.writes.every((set, i) => set.filter((m) => holding.has(m)).length >= needs[i]!)) return;
  await storeOn(ctx, key, p, entry, needs, holding, false, operation);
}

/**
 * A write as ABD does it. `floor`: a version the caller has just read from a quorum
 * (DELETE), which stands for the first phase.
 *
 * Writing above the quorum's newest is what keeps real-time order whatever the clocks
 * say: any write that finished before this one started is on W replicas, so the read
 * quorum sees it. A replica that refuses because it holds a version above this one's
 * counts as an acknowledgement: that version belongs to a write that had not finished
 * when this one started, so this one is ordered just before it and overwritten, as
 * ABD's replicas ack a stale tag. (Retrying above such a refusal, as an earlier design
 * did, could make a value that readers had already seen overwritten reappear.) One that
 * refuses because it already holds this very version (a concurrent read found it here
 * and repaired it there first) has stored it: a version names one write.
 */
export async function write(ctx: QuorumContext, key: string, first: Placement, consistency: Consistency, make: (version: Version) => Entry, floor?: Version): Promise<Version> {
  const { hlc, config } = ctx;
  let p = first;
  if (onlyHere(ctx.self, p)) return writeHere(ctx, key, p, make, floor);
  const position = ringPosition(key);
  if (!floor) {
    // Nothing is stored in this phase, so it may run again on a later epoch's placement.
    const learned = await ctx.placements.run(position, p, async (q) => {
      const { r } = quorumSizes(config, q.read.length, consistency);
      const { successes, results } = await gather(ctx.client, key, q.read, r, q.epoch);
      if (successes < r) throw new QuorumError("write", successes, r, { epoch: q.epoch, owners: q.read, answeredBy: q.read.filter((_, i) => results[i]) });
      // A conditional write accepted above the stored versions may be chosen and answered
      // already (its commit still on the way): this write goes above it too (unless this
      // is the control that ignores such proposals, context.ts).
      const stored = newest(results.map((reply) => reply?.entry));
      return (ctx.finishPending && pendingAbove(results, stored)) || stored?.version;
    });
    floor = learned.value;
    p = learned.placement;
  }
  // This phase may have stored the entry on some replicas before it fell short: run again,
  // it stores the very same entry (one version, one write), never a new version of it.
  const version = floor ? hlc.nextAbove(floor) : hlc.next();
  const entry = make(version);
  await ctx.placements.run(position, p, (q) => storeOn(ctx, key, q, entry, writeNeeds(config, q, consistency), new Set(), true, "write"));
  return version;
}

/** A key only this node holds: above what it holds, at once. */
function writeHere(ctx: QuorumContext, key: string, p: Placement, make: (version: Version) => Entry, floor?: Version): Version {
  const { hlc, replica } = ctx;
  let version = floor ? hlc.nextAbove(floor) : hlc.next();
  const reply = replica.put(key, make(version), p.epoch);
  if (reply.applied) return version;
  version = hlc.nextAbove(reply.current!);
  if (replica.put(key, make(version), p.epoch).applied) return version;
  throw new Error(`the local store refused a version above its own for '${key}'`);
}
