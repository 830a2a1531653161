/**
 * The proposer: a conditional write as single-decree Paxos over the key's owners, the
 * decree being which write follows the version the key holds now.
 *
 * 1. Prepare with a fresh ballot; each owner promises and answers what its store holds
 *    and any proposal it accepted but does not hold (the read rides on the prepare).
 * 2. If a promised owner holds a proposal above what the quorum stores, it may have been
 *    chosen: it is finished first (accepted under this ballot, then committed), and the
 *    round starts again.
 * 3. The condition is checked against the newest stored entry. When it fails, that entry
 *    is written back to W if the quorum disagreed (as a read would), and the answer is 412.
 * 4. Accept the new entry (its version the successor of the one checked); once a quorum
 *    accepted, it is chosen and acknowledged: two round trips. The commit (storing it on W
 *    of every write set, as a plain write stores) goes out as the answer does. Until it
 *    lands, reads and plain writes meet the proposal in the owners' replies and reckon
 *    with it (settle.ts, replication/read.ts and write.ts), and an old owner finishes
 *    it before a ring transition moves its key away (sync/stream.ts).
 *
 * A refusal (a higher promise, or a store that moved on) starts a new round after a random
 * backoff that doubles each time, so contending proposers all finish. A round that left
 * this write's proposal accepted somewhere starts the next at once: its prepare finds that
 * proposal (and finishes it), or learns from the owners' record of chosen versions that
 * another value was chosen in its place. Only if neither can be told (the key moved on past
 * the owners' memory) is the answer 503, outcome unknown.
 */
import type { Clock, Random } from "../env.ts";
import { ringPosition } from "../ring/hash.ts";
import type { Entry } from "../store/store.ts";
import { type Ballot, compareBallots, compareStamps, compareVersions, isFresh, successor, type Version } from "../store/version.ts";
import type { Placement } from "../topology/placement.ts";
import { type QuorumContext, writeNeeds } from "../replication/context.ts";
import { firstQuorums, newest, QuorumError } from "../replication/quorum.ts";
import { live } from "../replication/read.ts";
import { storeOn, writeBack } from "../replication/write.ts";
import type { AcceptReply, Pending, PrepareReply } from "../wire/cas.ts";
import { casQuorum, chosenAmong, type Condition, conditionHolds, sameProposal } from "./condition.ts";

export interface CasObserver {
  attempted(): void;
  won(): void;
  preconditionFailed(): void;
  /** A round lost to another proposer or a concurrent write, tried again. */
  retried(): void;
  /** A read or a ring transition met an accepted proposal above the stored versions and ran Paxos to settle it. */
  finishing(): void;
  /** A chosen entry's commit, sent after the answer, fell short of W (the owners' accepted proposals still carry it). */
  commitShort(): void;
}

export interface CasContext extends QuorumContext {
  clock: Clock;
  random: Random;
  observer?: CasObserver;
  /** False: a proposer that dies right after its answer, never committing (tests). */
  commit?: boolean;
}

/** What a round asks: a client's condition, or (`"read"`) only what was chosen, finishing any proposal that may have been. */
export type Ask = Condition | "read";

/** Won: the entry stored (its version, its expiry); or the live entry that failed the condition (undefined: none). */
export type CasOutcome = { won: true; entry: Entry } | { won: false; current: Entry | undefined };

/**
 * A conditional write that ends without knowing its outcome: it lost every round to
 * contention, or one of its proposals may have been chosen and then overwritten. A 503
 * that says so (the write may or may not have taken effect).
 */
export class OutcomeUnknownError extends Error {
  override name = "OutcomeUnknownError";
  constructor(message: string, readonly detail: { epoch: number; owners: string[] }) {
    super(message);
  }
}

/** Rounds a conditional write may lose to contention before it answers 503. */
export const MAX_ROUNDS = 24;
const BACKOFF_FIRST_MS = 2;
const BACKOFF_MAX_MS = 200;

/** One round's result: done, or lost to a higher ballot (`above`) or a change of state. */
/** `again`: start the next round at once (a proposal was just finished, or this write's own may have been accepted somewhere). */
type Round = { done: CasOutcome } | { lost: true; above?: Ballot; again?: boolean };

export async function conditionalWrite(ctx: CasContext, key: string, first: Placement, condition: Condition, make: (version: Version) => Entry): Promise<CasOutcome> {
  ctx.observer?.attempted();
  const done = await rounds(ctx, key, first, condition, make);
  if (done.won) ctx.observer?.won();
  else ctx.observer?.preconditionFailed();
  return done;
}

async function rounds(ctx: CasContext, key: string, first: Placement, ask: Ask, make: (version: Version) => Entry): Promise<CasOutcome> {
  let p = first;
  // Versions this write proposed: a later round may find one chosen (finished by itself or
  // by another proposer), and then this write took effect.
  const mine: Entry[] = [];
  for (let round = 1; round <= MAX_ROUNDS; round++) {
    const result = await roundOnce(ctx, key, p, ask, make, mine, round);
    if ("done" in result) return result.done;
    p = result.next;
  }
  throw new OutcomeUnknownError(`conditional write: every one of ${MAX_ROUNDS} rounds was lost to contention`, { epoch: p.epoch, owners: distinctOwners(p) });
}

/** One round, run again on a later epoch's placement if need be; a lost one is followed by a catch-up or a backoff, and says where the next goes. */
export async function roundOnce(ctx: CasContext, key: string, p: Placement, ask: Ask, make: (version: Version) => Entry, mine: Entry[], round: number): Promise<{ done: CasOutcome } | { next: Placement }> {
  const position = ringPosition(key);
  const ran = await ctx.placements.run(position, p, (q) => proposeOnce(ctx, key, q, ask, make, mine));
  const result = ran.value;
  if ("done" in result) return result;
  if (ask !== "read") ctx.observer?.retried();
  let next = ran.placement;
  if (result.above) {
    ctx.hlc.observe(result.above);
    if (result.above.epoch > next.epoch) {
      await ctx.placements.placer.catchUp(result.above.epoch);
      next = ctx.placements.place(position);
    }
  }
  if (!result.again) await sleep(ctx, round);
  return { next };
}

async function proposeOnce(ctx: CasContext, key: string, p: Placement, ask: Ask, make: (version: Version) => Entry, mine: Entry[]): Promise<Round> {
  const ballot: Ballot = { epoch: p.epoch, ...ctx.hlc.next() };
  const owners = distinctOwners(p);
  const needs = p.writes.map((set) => casQuorum(ctx.config, set.length));
  const promises = await collect(owners, p, needs, (m) => ctx.client.prepare(m, key, ballot, p.epoch), (r) => r.promised);
  const ownEntry = (v: Version) => mine.find((m) => compareVersions(m.version, v) === 0);
  // What the owners know was chosen settles this write's earlier proposals, promised or not.
  const chosen = promises.replies.flatMap((r) => r?.chosen ?? []);
  const mineChosen = chosen.map(ownEntry).find((e) => e !== undefined);
  if (mineChosen) return { done: { won: true, entry: mineChosen } };
  forget(mine, (m) => chosen.some((v) => isSibling(v, m.version)));
  if (!promises.met) return lostOrShort(promises.replies, "prepare", promises, p, owners);
  const promised = promises.replies.map((r) => (r?.promised ? r : undefined));
  let base = newest(promised.map((r) => r?.entry));
  const unfinished = highestPending(promised, base);
  const accepted = new Map(owners.flatMap((m, i) => (promised[i]?.accepted ? [[m, promised[i]!.accepted!] as const] : [])));
  if (unfinished && sameProposal(unfinished, chosenAmong(p.epoch, p.writes, needs, accepted))) {
    // Accepted by a quorum at one ballot: chosen, its commit perhaps still on the way. It is
    // what this round builds on; an owner that accepted it stores it once it takes a
    // proposal over it (acceptor.ts).
    base = unfinished.entry;
  } else if (unfinished) {
    // Committed before the next round, which would otherwise find it unstored again.
    const done = await acceptAndCommit(ctx, key, p, owners, needs, ballot, unfinished.base, unfinished.entry, true);
    if ("lost" in done) return done;
    // A read's answer is what it just finished: newer than anything acknowledged before it began.
    if (ask === "read") return { done: { won: false, current: unfinished.entry } };
    return ownEntry(unfinished.entry.version) ? { done: { won: true, entry: unfinished.entry } } : { lost: true, again: true };
  }
  if (base && ownEntry(base.version)) return { done: { won: true, entry: base } };
  // One of this write's proposals may have been chosen and then overwritten: whether it
  // took effect cannot be told any more, so neither a 412 nor another write is honest.
  if (base && mine.some((m) => compareVersions(base.version, m.version) > 0 && !isSibling(base.version, m.version))) {
    throw new OutcomeUnknownError("conditional write: an earlier round of it may have taken effect and been overwritten since", { epoch: p.epoch, owners });
  }
  // Proposals behind the stored version were not chosen (or the check above would have
  // thrown): forget them, so a later round does not ask after them again.
  if (base) forget(mine, (m) => compareVersions(m.version, base.version) < 0);
  const current = live(base, ctx.horizon());
  if (ask === "read" || !conditionHolds(ask, current)) {
    // A failed condition's answer is a read: what it names must stay visible.
    if (base) {
      const holding = new Set(owners.filter((_, i) => promised[i]?.entry && compareVersions(promised[i]!.entry!.version, base.version) === 0));
      await writeBack(ctx, key, p, base, holding, "quorum", "conditional write's read");
    }
    // A read answers the newest entry as stored, tombstone or expired value included.
    return { done: { won: false, current: ask === "read" ? base : current } };
  }
  const entry = make(successor(base?.version, ballot));
  mine.push(entry);
  const done = await acceptAndCommit(ctx, key, p, owners, needs, ballot, base?.version, entry, false);
  if (!("lost" in done)) return { done: { won: true, entry } };
  if (done.untouched) {
    mine.pop(); // every owner refused it: it can never be chosen
    return done;
  }
  // Accepted somewhere: learn its fate in the next round before the key moves on far
  // enough that no owner remembers which value was chosen at its step (CHOSEN_KEPT).
  return { ...done, again: true };
}

/**
 * Phase 2, then the commit: `chosen` once a quorum accepted. `awaitCommit`: resolve only
 * once the entry is on W of every write set (finishing another's proposal, or a read's);
 * otherwise the commit runs on after the answer, leaving hints where owners do not answer.
 */
async function acceptAndCommit(ctx: CasContext, key: string, p: Placement, owners: string[], needs: number[], ballot: Ballot, base: Version | undefined, entry: Entry, awaitCommit: boolean): Promise<{ lost: true; above?: Ballot; untouched: boolean } | { chosen: true }> {
  const accepts = await collect(owners, p, needs, (m) => ctx.client.accept(m, key, ballot, base, entry, p.epoch), (r) => r.accepted);
  if (!accepts.met) {
    const untouched = accepts.replies.every((r) => r !== undefined && !r.accepted);
    return { ...lostOrShort(accepts.replies, "accept", accepts, p, owners), untouched };
  }
  if (ctx.commit === false && !awaitCommit) return { chosen: true };
  const commit = storeOn(ctx, key, p, entry, writeNeeds(ctx.config, p, "quorum"), new Set(), true, "conditional write");
  if (awaitCommit) await commit;
  else commit.catch(() => ctx.observer?.commitShort());
  return { chosen: true };
}

/**
 * The accepted proposal a later ballot must finish: one above the newest stored version
 * (its base no older than it), the highest-ballot one if several (Paxos's rule).
 */
function highestPending(promised: ReadonlyArray<{ accepted?: Pending } | undefined>, base: Entry | undefined): Pending | undefined {
  let best: Pending | undefined;
  for (const reply of promised) {
    const accepted = reply?.accepted;
    if (!accepted) continue;
    if (base && compareVersions(accepted.entry.version, base.version) <= 0) continue;
    if (base && (!accepted.base || compareVersions(accepted.base, base.version) < 0)) continue;
    if (!best || compareBallots(accepted.ballot, best.ballot) > 0) best = accepted;
  }
  return best;
}

interface Collected<T> {
  met: boolean;
  counted: number;
  needed: number;
  replies: Array<T | undefined>;
}

/** Sends one phase to every owner; resolves once `ok` replies make every set's quorum, or all settled. */
async function collect<T>(owners: string[], p: Placement, needs: number[], send: (m: string) => Promise<T>, ok: (r: T) => boolean): Promise<Collected<T>> {
  const replies: Array<T | undefined> = owners.map(() => undefined);
  const promises = owners.map((m, i) => send(m).then((r) => (replies[i] = r)));
  const result = await firstQuorums(owners, promises, p.writes, needs, ok);
  return { ...result, replies: [...replies] };
}

function lostOrShort<T extends { ballot?: Ballot; current?: Version } | PrepareReply | AcceptReply>(replies: Array<T | undefined>, phase: string, c: { counted: number; needed: number }, p: Placement, owners: string[]): { lost: true; above?: Ballot } {
  let above: Ballot | undefined;
  let moved = false;
  for (const r of replies) {
    if (!r) continue;
    const b = "ballot" in r ? r.ballot : undefined;
    if (b && (!above || compareBallots(b, above) > 0)) above = b;
    if ("current" in r && r.current) moved = true;
  }
  if (!above && !moved) throw new QuorumError(`conditional write (${phase})`, c.counted, c.needed, { epoch: p.epoch, owners });
  return { lost: true, above };
}

/**
 * Whether `v` and proposal `m` compete for the same step of a key's chain of conditional
 * writes. Chosen values form one chain, one per step: a sibling of `m` stored or known
 * chosen means `m` was not. Two first writes over an absent key are siblings whatever
 * their roots (their ballots' times).
 */
function isSibling(v: Version, m: Version): boolean {
  const sameBase = compareStamps(v, m) === 0 || (m.step === 1 && isFresh(m) && isFresh(v));
  return v.step === m.step && sameBase && compareVersions(v, m) !== 0;
}

function forget(mine: Entry[], settled: (m: Entry) => boolean): void {
  mine.splice(0, mine.length, ...mine.filter((m) => !settled(m)));
}

export const distinctOwners = (p: Placement) => [...new Set(p.writes.flat())];

function sleep(ctx: CasContext, round: number): Promise<void> {
  const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** (round - 1));
  return new Promise((resolve) => ctx.clock.setTimeout(resolve, ctx.random.next() * ceiling));
}
