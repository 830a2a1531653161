/**
 * Hand-off: keys this node holds but no longer owns (a member joined, or this node is
 * leaving) are offered to their owners; each owner names the ones it lacks, which are
 * pushed. A key is dropped here only once every owner has confirmed holding its version or
 * a newer one; until then it is kept and offered again next round.
 */
import type { Candidate, Round } from "./round.ts";

export type HandoffCandidate = Candidate & { owners: readonly string[] };

/** Offers a page of keys to their owners, pushes what they lack, drops what all confirmed. */
export async function handOffPage(round: Round, page: HandoffCandidate[]): Promise<void> {
  if (page.length === 0) return;
  const confirmations = new Array<number>(page.length).fill(0);
  const byOwner = new Map<string, number[]>();
  page.forEach((c, i) => {
    for (const owner of c.owners) {
      let list = byOwner.get(owner);
      if (!list) byOwner.set(owner, (list = []));
      list.push(i);
    }
  });
  await Promise.all(
    [...byOwner].map(async ([owner, indexes]) => {
      const confirmed = await round.offerAndPush(owner, "handoff", indexes.map((i) => page[i]!));
      indexes.forEach((i, j) => {
        if (confirmed[j]) confirmations[i]!++;
      });
    }),
  );
  let dropped = 0;
  page.forEach((c, i) => {
    if (c.owners.length > 0 && confirmations[i] === c.owners.length) {
      // Only the confirmed version goes: a newer write that arrived meanwhile stays for the next round.
      if (round.ctx.store.dropIf(c.key, c.entry.version)) dropped++;
    } else {
      round.keysUnconfirmed++;
    }
  });
  round.keysHandedOff += dropped;
  round.ctx.counters.handedOff.inc([], dropped);
}
