/**
 * What each owner of a key holds, asked one by one (for operators and the dashboard's
 * "where does this key live"): not a quorum read, no repair, nothing changed.
 */
import { ringPosition } from "../ring/hash.ts";
import { formatVersion } from "../store/version.ts";
import type { Placer } from "./placed.ts";
import type { ReplicaClient } from "./replica_client.ts";

export interface ReplicaCopy {
  id: string;
  /** The version it holds, `null` for none, absent when it did not answer. */
  version?: string | null;
  tombstone?: boolean;
  error?: string;
}

export async function inspectKey(placer: Placer, client: ReplicaClient, key: string): Promise<{ epoch: number; copies: ReplicaCopy[] }> {
  const p = placer.place(ringPosition(key));
  const owners = [...new Set([...p.read, ...p.writes.flat()])];
  const copies = await Promise.all(owners.map(async (id): Promise<ReplicaCopy> => {
    try {
      const { entry } = id === client.self ? client.local(key, p.epoch) : await client.get(id, key, p.epoch);
      return entry ? { id, version: formatVersion(entry.version), tombstone: entry.tombstone } : { id, version: null };
    } catch (err) {
      return { id, error: String((err as Error).message ?? err) };
    }
  }));
  return { epoch: p.epoch, copies };
}
