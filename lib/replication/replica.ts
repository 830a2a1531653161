/**
 * A replica's side of replication: apply a versioned entry if it is newer, or say what it
 * holds; read what it holds. Used by the `/_kv/` routes and, when the coordinator is
 * itself a replica, called directly.
 */
import type { Entry, Store } from "../store/store.ts";
import type { Hlc } from "../store/version.ts";
import type { GetReply, PutReply } from "./messages.ts";

export interface Replica {
  put(key: string, entry: Entry): PutReply;
  get(key: string): GetReply;
}

export function localReplica(store: Store, hlc: Hlc): Replica {
  return {
    put(key, entry) {
      // Versions seen move this node's clock past them, so its own next write is newer.
      hlc.observe(entry.version);
      const result = store.apply(key, entry);
      return result.applied ? { applied: true } : { applied: false, current: result.current.version };
    },
    get(key) {
      const entry = store.get(key);
      return entry ? { entry } : {};
    },
  };
}
