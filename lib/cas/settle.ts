/**
 * Reads that meet a conditional write accepted above every stored version (acknowledged,
 * perhaps, before its commit landed): what was chosen, told from the owners' answers when
 * they show it, or settled by a round of Paxos (propose.ts's rounds, asking nothing).
 * docs/cas.md, "Reads and writes that meet an uncommitted proposal".
 */
import type { Entry } from "../store/store.ts";
import { compareBallots, compareVersions } from "../store/version.ts";
import type { Placement } from "../topology/placement.ts";
import { QuorumError } from "../replication/quorum.ts";
import { writeBack } from "../replication/write.ts";
import type { Pending } from "../wire/cas.ts";
import { casQuorum, chosenAmong, sameProposal } from "./condition.ts";
import { type CasContext, distinctOwners, MAX_ROUNDS, roundOnce } from "./propose.ts";

/**
 * One round of settling what was chosen for `key`, for a read that met an accepted proposal
 * above every stored version. If the read's own answers (`seen`) show it accepted by a
 * quorum at one ballot, it was chosen: stored on W of every write set (what its commit
 * does), then answered. Otherwise a Paxos round finishes it if it may have been chosen (a
 * later ballot re-accepts and commits it), or finds that no promised owner holds it (then
 * it was not chosen and, behind this round's promises, never can be at its own ballot), and
 * resolves to the newest entry, tombstones included, once on W of every write set.
 * Undefined: the round lost to contention and backed off; the read starts over, since by
 * then the commit has usually landed. Past MAX_ROUNDS: a QuorumError (503).
 */
export async function finishPending(ctx: CasContext, key: string, first: Placement, seen?: ReadonlyMap<string, Pending>, round = 1): Promise<{ entry: Entry | undefined } | undefined> {
  const chosen = seen && chosenAmong(first.epoch, first.writes, first.writes.map((set) => casQuorum(ctx.config, set.length)), seen);
  if (chosen && sameProposal(highestOf(seen), chosen)) {
    await writeBack(ctx, key, first, chosen.entry, new Set(), "quorum", "read of a chosen conditional write");
    return { entry: chosen.entry };
  }
  if (round > MAX_ROUNDS) throw new QuorumError(`read (every one of ${MAX_ROUNDS} rounds settling a conditional write was lost to contention)`, 0, 1, { epoch: first.epoch, owners: distinctOwners(first) });
  if (round === 1) ctx.observer?.finishing();
  const result = await roundOnce(ctx, key, first, "read", () => {
    throw new Error("a read proposes nothing");
  }, [], round);
  if (!("done" in result)) return undefined;
  return { entry: result.done.won ? result.done.entry : result.done.current };
}

/** The accepted proposal with the highest version (the highest ballot among equals). */
function highestOf(accepted: ReadonlyMap<string, Pending>): Pending | undefined {
  let best: Pending | undefined;
  for (const a of accepted.values()) {
    const order = best ? compareVersions(a.entry.version, best.entry.version) : 1;
    if (order > 0 || (order === 0 && compareBallots(a.ballot, best!.ballot) > 0)) best = a;
  }
  return best;
}
