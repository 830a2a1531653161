/**
 * The data movement of a transition: every key this node holds as an old owner of a range
 * that changes owners is offered to each new owner (which takes what it lacks). This node
 * knows the epoch before it scans, so it already refuses older writes: what it
 * acknowledged before is in its store now, or among the conditional writes it accepted
 * but does not store (chosen, perhaps, and answered before the commit landed). Those are
 * settled first, by Paxos in this epoch, which stores what was chosen on the new owners too.
 */
import { ringPosition, ringPositionOfBytes } from "../ring/hash.ts";
import { PAGE_KEYS, sleep, yieldToLoop } from "./context.ts";
import { isGhost, type Layout } from "../topology/placement.ts";
import { type Candidate, PeerOffers, type Round } from "./round.ts";

/** While ranges move: how often, and how many times, keys another owner was sending are offered again. */
const STREAM_RETRY_MS = 250;
const STREAM_RETRIES = 40;

/**
 * Offers every moving range this node holds as an old owner to its new owners. Resolves,
 * once done on this epoch, to the new owners that did not take everything (unreachable, or
 * still waiting for keys another old owner promised); undefined when a later epoch came
 * first (its own round streams).
 */
export async function streamMovingRanges(round: Round): Promise<{ unreached: string[] } | undefined> {
  const { ctx } = round;
  const { self, store } = ctx;
  const layout = ctx.topology.layout;
  /** Per peer, what it did not hold yet: promised by another old owner, which is sending it. */
  const waiting = new Map<string, Candidate[]>();
  const targets = new Set<string>();
  const offers = new PeerOffers(round, "handoff", (peer, page, held) => {
    const not = page.filter((_, i) => !held[i]);
    if (not.length > 0) waiting.set(peer, [...(waiting.get(peer) ?? []), ...not]);
  });
  const unsettled = await finishAccepted(round, layout);
  if (ctx.topology.layout !== layout) return undefined;
  let seen = 0;
  round.progress.begin("streaming", store.size, ctx.env.clock.monotonicMs());
  // By slot, as the anti-entropy scan walks: only a key that moves is decoded, before anything awaits.
  for (const slot of store.slots()) {
    if (ctx.topology.layout !== layout) return undefined; // a later epoch: its own round streams
    const position = store.readKey(slot, ringPositionOfBytes);
    if (layout.changes(position) && layout.oldOwners(position).includes(self)) {
      const offered = { key: store.keyAt(slot), entry: store.entryAt(slot) };
      for (const peer of layout.newOwners(position)) {
        if (peer === self || isGhost(peer)) continue;
        targets.add(peer);
        if (!round.failed.has(peer)) await offers.add(peer, offered);
      }
    }
    if (++seen % PAGE_KEYS === 0) {
      round.progress.seen = seen;
      await yieldToLoop(ctx);
    }
  }
  round.progress.seen = seen;
  await offers.flushAll();
  // Keys another old owner was sending: offered again until held, while its pushes land.
  for (let tries = 0; waiting.size > 0 && tries < STREAM_RETRIES; tries++) {
    await sleep(ctx.env.clock, STREAM_RETRY_MS);
    if (ctx.topology.layout !== layout) return undefined;
    const again = [...waiting];
    waiting.clear();
    await Promise.all(again.map(([peer, list]) => (round.failed.has(peer) ? undefined : offers.offer(peer, list))));
  }
  if (ctx.topology.layout !== layout) return undefined;
  const unreached = new Set([...targets].filter((peer) => round.failed.has(peer) || waiting.has(peer)));
  for (const peer of unsettled) unreached.add(peer);
  return { unreached: [...unreached].sort() };
}

/** Conditional writes settled at once: a handful is usual (those in flight as the epoch turned). */
const FINISH_AT_ONCE = 16;

/**
 * Settles every conditional write this node accepted but does not store, for keys of the
 * ranges it hands over; resolves to the new owners of those it could not settle (their
 * ranges do not count as streamed by this node).
 */
async function finishAccepted(round: Round, layout: Layout): Promise<Set<string>> {
  const { ctx } = round;
  const unsettled = new Set<string>();
  if (!ctx.accepted) return unsettled;
  const moving = ctx.accepted.keys().filter((key) => {
    const position = ringPosition(key);
    return layout.changes(position) && layout.oldOwners(position).includes(ctx.self);
  });
  for (let i = 0; i < moving.length && ctx.topology.layout === layout; i += FINISH_AT_ONCE) {
    await Promise.all(moving.slice(i, i + FINISH_AT_ONCE).map((key) =>
      ctx.accepted!.finish(key).catch(() => {
        for (const peer of layout.newOwners(ringPosition(key))) if (peer !== ctx.self) unsettled.add(peer);
      })
    ));
  }
  return unsettled;
}
