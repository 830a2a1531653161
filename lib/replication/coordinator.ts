/**
 * The coordinator: what the public KV routes call. Any node coordinates any key.
 *
 * This is the single-node coordinator: the node is the key's only replica (N = W = R = 1
 * while it is alone), so every operation goes straight to the local store. Quorum
 * replication across the ring replaces the body of these functions, not their shape.
 */
import type { Entry, Store } from "../store/store.ts";
import type { Hlc, Version } from "../store/version.ts";

export interface Coordinator {
  /** Stores the value; resolves to the version it was stored under. */
  put(key: string, value: Uint8Array, contentType: string): Promise<Version>;
  /** The newest live entry, or undefined when the key is absent or deleted. */
  get(key: string): Promise<Entry | undefined>;
  /** Writes a tombstone; resolves to whether a live value was there to delete. */
  delete(key: string): Promise<boolean>;
}

const EMPTY = new Uint8Array(0);

export function localCoordinator(store: Store, hlc: Hlc): Coordinator {
  /** Writes with a fresh version; if the store holds a newer one, retries once above it. */
  function write(key: string, value: Uint8Array, contentType: string, tombstone: boolean): Version {
    let version = hlc.next();
    let result = store.apply(key, { value, contentType, version, tombstone });
    if (!result.applied) {
      version = hlc.nextAbove(result.current.version);
      result = store.apply(key, { value, contentType, version, tombstone });
      if (!result.applied) throw new Error(`store refused a version above its own for '${key}'`);
    }
    return version;
  }

  return {
    async put(key, value, contentType) {
      return write(key, value, contentType, false);
    },
    async get(key) {
      const entry = store.get(key);
      return entry && !entry.tombstone ? entry : undefined;
    },
    async delete(key) {
      const entry = store.get(key);
      if (!entry || entry.tombstone) return false;
      write(key, EMPTY, "", true);
      return true;
    },
  };
}
