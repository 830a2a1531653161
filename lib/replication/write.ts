/**
 * The write path: ABD's two phases. Learn the newest version a read quorum holds, then
 * store the entry above it on W of every write set (one set when the ring is stable; old
 * and new owners while a range moves).
 */
import { ringPosition } from "../ring/hash.ts";
import type { Entry } from "../store/store.ts";
import { compareVersions, holds, type Version } from "../store/version.ts";
import type { Placement } from "../topology/placement.ts";
import { onlyHere, ownerOfTwoQuorum, type QuorumContext, writeNeeds } from "./context.ts";
import { gather } from "./gather.ts";
import type { GetReply, PutReply } from "../wire/replica.ts";
import { type Consistency, firstQuorums, firstSuccesses, newest, pendingAbove, QuorumError, quorumSizes } from "./quorum.ts";

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
export async function write(ctx: QuorumContext, key: string, p: Placement, consistency: Consistency, make: (version: Version) => Entry, floor?: Version): Promise<Version> {
  if (onlyHere(ctx.self, p)) return writeHere(ctx, key, p, make, floor);
  if (!floor) {
    const own = oneRoundStart(ctx, key, p, consistency);
    if (own) return writeInOneRound(ctx, key, p, consistency, make, own.entry);
  }
  return writeInTwoPhases(ctx, key, p, consistency, make, floor);
}

/** The first phase (unless `floor` stands for it), then the second. */
async function writeInTwoPhases(ctx: QuorumContext, key: string, first: Placement, consistency: Consistency, make: (version: Version) => Entry, floor?: Version): Promise<Version> {
  const { hlc, config } = ctx;
  let p = first;
  const position = ringPosition(key);
  if (!floor) ({ value: floor, placement: p } = await learnNewest(ctx, key, p, consistency));
  // This phase may have stored the entry on some replicas before it fell short: run again,
  // it stores the very same entry (one version, one write), never a new version of it.
  const version = floor ? hlc.nextAbove(floor) : hlc.next();
  const entry = make(version);
  await ctx.placements.run(position, p, (q) => storeOn(ctx, key, q, entry, writeNeeds(config, q, consistency), new Set(), true, "write"));
  return version;
}

/**
 * ABD's first phase: the newest version a read quorum holds, and the placement it was
 * learned on. Nothing is stored in this phase, so it may run again on a later epoch's.
 * Only versions are wanted, so the replicas send no values (`gather`'s `head`).
 */
function learnNewest(ctx: QuorumContext, key: string, p: Placement, consistency: Consistency): Promise<{ value: Version | undefined; placement: Placement }> {
  return ctx.placements.run(ringPosition(key), p, async (q) => {
    const { r } = quorumSizes(ctx.config, q.read.length, consistency);
    const { successes, results } = await gather(ctx.client, key, q.read, r, q.epoch, undefined, true);
    if (successes < r) throw new QuorumError("write", successes, r, { epoch: q.epoch, owners: q.read, answeredBy: q.read.filter((_, i) => results[i]) });
    // A conditional write accepted above the stored versions may be chosen and answered
    // already (its commit still on the way): this write goes above it too (unless this
    // is the control that ignores such proposals, context.ts).
    const stored = newest(results.map((reply) => reply?.entry));
    return (ctx.finishPending && pendingAbove(results, stored)) || stored?.version;
  });
}

/**
 * Whether a write of `key` may take one round trip, and if so this node's own copy (the
 * first half of its read quorum): in the usual case (`ownerOfTwoQuorum`), with no proposal
 * pending here, and conditional writes' proposals reckoned with (not the control).
 */
function oneRoundStart(ctx: QuorumContext, key: string, p: Placement, consistency: Consistency): GetReply | undefined {
  if (!ctx.finishPending || !ownerOfTwoQuorum(ctx, p, consistency)) return undefined;
  let own: GetReply;
  try {
    own = ctx.client.local(key, p.epoch);
  } catch {
    return undefined; // this node refused its own epoch: the two phases catch up
  }
  return own.pending ? undefined : own;
}

/**
 * Both of ABD's phases in one round trip. The version goes above this node's own; the other
 * owners store it only if it is above everything they hold, stored or accepted (`putAbove`).
 * Once one of them has, this node and that one are a read quorum that had nothing newer when
 * it was asked, so no write that finished before this one began is above the version: the
 * first phase's promise. This node stores it only then, so a version no owner vouched for
 * is never anywhere. Until then nothing is stored: when every owner refused, the two
 * phases run from the start with a new version. When one did not answer, it may have
 * stored the version, and a new one could bring back a value readers saw overwritten
 * (`write`): a read quorum must show nothing above it, or the write's outcome is unknown (503).
 */
async function writeInOneRound(ctx: QuorumContext, key: string, p: Placement, consistency: Consistency, make: (version: Version) => Entry, own: Entry | undefined): Promise<Version> {
  const { self, client, config, hlc } = ctx;
  const version = own ? hlc.nextAbove(own.version) : hlc.next();
  const entry = make(version);
  const peers = p.read.filter((m) => m !== self);
  const stores = client.putAbove(peers, key, entry, p.epoch);
  const { successes, results } = await firstSuccesses(stores, 1, (stored) => stored);
  if (successes === 0) {
    if (results.every((stored) => stored === false)) return writeInTwoPhases(ctx, key, p, consistency, make);
    const learned = await learnNewest(ctx, key, p, consistency);
    if (learned.value && compareVersions(learned.value, version) > 0) {
      throw new QuorumError("write", 1, writeNeeds(config, p, consistency)[0]!, { epoch: p.epoch, owners: p.read });
    }
    await storeTheRest(ctx, key, entry, consistency, learned.placement, new Set());
    return version;
  }
  stores.forEach((stored, i) => stored.catch(() => client.hint(peers[i]!, key, entry)));
  const holding = new Set(peers.filter((_, i) => results[i] === true));
  try {
    const mine = ctx.replica.put(key, entry, p.epoch);
    if (mine.applied || holds(mine.current!, version)) holding.add(self);
  } catch {
    // refused here (a later epoch, leaving): the other owners must make W
  }
  if (holding.size >= writeNeeds(config, p, consistency)[0]!) return version;
  await storeTheRest(ctx, key, entry, consistency, p, holding);
  return version;
}

/**
 * The second phase of a one-round write that its round did not finish: the same entry
 * (never a new version), on `from` or the placements after it; `holding` already hold it on `from`.
 */
async function storeTheRest(ctx: QuorumContext, key: string, entry: Entry, consistency: Consistency, from: Placement, holding: ReadonlySet<string>): Promise<void> {
  await ctx.placements.run(ringPosition(key), from, (q) => storeOn(ctx, key, q, entry, writeNeeds(ctx.config, q, consistency), q === from ? holding : new Set(), true, "write"));
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
