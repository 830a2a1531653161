/**
 * Reading R replicas of one key: this node first when it is one, then as many others as
 * are still needed, and the rest only if some of those fail. Half the internal traffic of
 * asking all N, at the cost of a timeout's delay when a replica is down (Cassandra's
 * choice too).
 */
import type { Entry } from "../store/store.ts";
import type { GetReply } from "../wire/replica.ts";
import { firstSuccesses } from "./quorum.ts";
import type { ReplicaClient } from "./replica_client.ts";

export interface Gathered {
  successes: number;
  /** results[i] is peers[i]'s answer (preference-list order), undefined if it gave none. */
  results: Array<GetReply | undefined>;
}

/**
 * `askLast`: a replica that just failed, asked only if the others do not make R. `head`:
 * only versions are wanted, so the others send their entries without values (`getHead`),
 * and the results' entries but this node's own may hold none: for a writer's first phase.
 */
export async function gather(client: ReplicaClient, key: string, peers: readonly string[], r: number, epoch: number, askLast?: string, head = false): Promise<Gathered> {
  const { self } = client;
  const results: Array<GetReply | undefined> = new Array(peers.length).fill(undefined);
  let successes = 0;
  // The local entry is read first, so the others can answer "same" rather than send it back.
  let have: Entry | undefined;
  const selfAt = peers.indexOf(self);
  if (selfAt >= 0) {
    try {
      results[selfAt] = client.local(key, epoch);
      have = results[selfAt]!.entry;
      successes = 1;
    } catch {
      // this node refused its own epoch: the others are asked
    }
  }
  const remote: number[] = [];
  for (let i = 0; i < peers.length; i++) if (peers[i] !== self && peers[i] !== askLast) remote.push(i);
  const last = askLast === undefined ? -1 : peers.indexOf(askLast);
  if (last >= 0 && peers[last] !== self) remote.push(last);

  /** Asks these replicas; resolves once `needed` answered or all settled, to how many did. */
  async function ask(indexes: number[], needed: number): Promise<number> {
    if (indexes.length === 1) {
      // The usual case (R = 2, this node a replica): one request, no race to arrange.
      try {
        results[indexes[0]!] = await (head ? client.getHead(peers[indexes[0]!]!, key, epoch, have) : client.get(peers[indexes[0]!]!, key, epoch, have));
        return 1;
      } catch {
        return 0;
      }
    }
    const got = await firstSuccesses(indexes.map((i) => (head ? client.getHead(peers[i]!, key, epoch, have) : client.get(peers[i]!, key, epoch, have))), needed, () => true);
    got.results.forEach((reply, j) => {
      if (reply) results[indexes[j]!] = reply;
    });
    return got.successes;
  }

  const first = remote.slice(0, Math.max(0, r - successes));
  if (first.length > 0) successes += await ask(first, first.length);
  const rest = remote.slice(first.length);
  if (successes < r && rest.length > 0) successes += await ask(rest, r - successes);
  return { successes, results };
}
