/**
 * What each owner of a key holds, asked one by one (for operators and the dashboard's
 * "where does this key live"): not a quorum read, no repair, nothing changed.
 */
import { ringPosition } from "../ring/hash.ts";
import { formatBallot, formatVersion } from "../store/version.ts";
import type { Placer } from "./placed.ts";
import type { ReplicaClient } from "./replica_client.ts";

export interface ReplicaCopy {
  id: string;
  /** The version it holds, `null` for none, absent when it did not answer. */
  version?: string | null;
  tombstone?: boolean;
  /** When the value it holds expires (ms since the epoch), if it does. */
  expires?: number;
  /** Conditional writes (lib/cas): the highest ballot it promised, and a proposal it accepted but does not store yet. */
  promised?: string;
  pending?: string;
  error?: string;
}

export async function inspectKey(placer: Placer, client: ReplicaClient, key: string): Promise<{ epoch: number; copies: ReplicaCopy[] }> {
  const p = placer.place(ringPosition(key));
  const owners = [...new Set([...p.read, ...p.writes.flat()])];
  const copies = await Promise.all(owners.map(async (id): Promise<ReplicaCopy> => {
    try {
      const [{ entry }, cas] = await Promise.all([id === client.self ? client.local(key, p.epoch) : client.get(id, key, p.epoch), client.casState(id, key, p.epoch)]);
      const copy: ReplicaCopy = entry ? { id, version: formatVersion(entry.version), tombstone: entry.tombstone } : { id, version: null };
      if (entry?.expires !== undefined) copy.expires = entry.expires;
      if (cas.promised) copy.promised = formatBallot(cas.promised);
      if (cas.pending) copy.pending = formatVersion(cas.pending);
      return copy;
    } catch (err) {
      return { id, error: String((err as Error).message ?? err) };
    }
  }));
  return { epoch: p.epoch, copies };
}
