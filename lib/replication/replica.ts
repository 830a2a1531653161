/**
 * A replica's side of replication: apply a versioned entry if it is newer, or say what it
 * holds; read what it holds. Used by replica_messages.ts (batches from other nodes),
 * by stabilisation's pushes and, when the coordinator is
 * itself a replica, called directly.
 */
import type { Entry, Store } from "../store/store.ts";
import { compareVersions, type Hlc, isFresh, type Version } from "../store/version.ts";
import type { GetReply, PutReply } from "../wire/replica.ts";
import type { Pending } from "../wire/cas.ts";

/**
 * `epoch`: the ring epoch a coordinator placed the key in, checked by the gate (the
 * topology's `admit`) before anything is read or stored; stabilisation's own pushes
 * carry none.
 */
export interface Replica {
  put(key: string, entry: Entry, epoch?: number): PutReply;
  /**
   * A plain write's entry stored only if its version is above everything this replica
   * holds, stored or accepted (a conditional write's proposal, fresh or not): what lets one
   * message stand for both of ABD's phases at this replica (write.ts, `writeInOneRound`).
   */
  putAbove(key: string, entry: Entry, epoch?: number): PutReply;
  get(key: string, epoch?: number): GetReply;
}

/** Throws unless this process may answer as an owner in `epoch`. */
export type EpochGate = (epoch: number) => void;

/**
 * A node that is leaving takes no more writes: what it stored after its last hand-off round
 * would leave with it. Coordinators count the refusal as a missing replica (the others still
 * make W), and senders of stabilisation data keep it for the members that stay.
 */
export class LeavingError extends Error {
  override name = "LeavingError";
  constructor() {
    super("this node is leaving the cluster and takes no more writes");
  }
}

/**
 * `cas`: this replica's acceptor (lib/cas/acceptor.ts). A plain write below a proposal it
 * accepted over an absent key is refused as if that were stored: it may be chosen, and it
 * saw no value (store/version.ts, `holds`). A conditional version stored is one chosen. A
 * get names any accepted proposal above the store: it may be chosen and acknowledged before
 * its commit lands, so reads and writes must reckon with it (docs/cas.md).
 */
export function localReplica(
  store: Store,
  hlc: Hlc,
  leaving: () => boolean = () => false,
  gate: EpochGate = () => {},
  cas: { pending(key: string): Pending | undefined; chose(key: string, version: Version): void } = { pending: () => undefined, chose: () => {} },
): Replica {
  function apply(key: string, entry: Entry): PutReply {
    // Versions seen move this node's clock past them, so its own next write is newer.
    hlc.observe(entry.version);
    const result = store.apply(key, entry);
    if (result.applied && entry.version.step) cas.chose(key, entry.version);
    return result.applied ? { applied: true } : { applied: false, current: result.current.version };
  }
  function admit(epoch: number | undefined): void {
    if (leaving()) throw new LeavingError();
    if (epoch !== undefined) gate(epoch);
  }
  return {
    put(key, entry, epoch) {
      admit(epoch);
      const pending = entry.version.step ? undefined : cas.pending(key)?.entry.version;
      if (pending && isFresh(pending) && compareVersions(entry.version, pending) < 0) return { applied: false, current: pending };
      return apply(key, entry);
    },
    putAbove(key, entry, epoch) {
      admit(epoch);
      const pending = cas.pending(key)?.entry.version;
      if (pending && compareVersions(entry.version, pending) <= 0) return { applied: false, current: pending };
      return apply(key, entry);
    },
    get(key, epoch) {
      if (epoch !== undefined) gate(epoch);
      const entry = store.get(key);
      const pending = cas.pending(key);
      if (pending) return entry ? { entry, pending } : { pending };
      return entry ? { entry } : {};
    },
  };
}
