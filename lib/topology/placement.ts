/**
 * Where a key lives in one epoch: the rings of its old and new owners, and from them the
 * owners a read asks and the sets a write must reach W of. Pure over a TopologyState.
 */
import { vnodePositions } from "../ring/hash.ts";
import { Ring } from "../ring/ring.ts";
import { superseded, type TopologyState } from "./state.ts";

/** What a coordinator needs for one key in one epoch. */
export interface Placement {
  epoch: number;
  /** Reads ask R of these. */
  read: string[];
  /** Writes need W of each set; one set when the ring is stable. */
  writes: string[][];
}

/**
 * An old owner whose address a restarted process now holds stands in a placement as
 * `~address`: it counts toward N, but no answer can come from it.
 */
export const GHOST_PREFIX = "~";
export const isGhost = (owner: string): boolean => owner.startsWith(GHOST_PREFIX);

export class Layout {
  readonly epoch: number;
  /** The owners' ring (the old owners' during a transition). */
  readonly current: Ring;
  /** The new owners' ring during a transition. */
  readonly incoming: Ring | undefined;
  readonly #ghosts: Set<string>;
  readonly #readNew: boolean;

  constructor(readonly state: TopologyState, readonly vnodes: number, readonly replicas: number) {
    this.epoch = state.epoch;
    this.current = ringOf(state.members.map((m) => m.id), vnodes);
    this.incoming = state.phase === "stable" ? undefined : ringOf(state.next.map((m) => m.id), vnodes);
    this.#ghosts = superseded(state);
    this.#readNew = state.phase === "write_both_read_new";
  }

  get stable(): boolean {
    return this.incoming === undefined;
  }

  /** The old owners at `position` (ghosts marked), or the owners when stable. */
  oldOwners(position: bigint): string[] {
    const owners = this.current.preferenceList(position, this.replicas);
    if (this.#ghosts.size === 0) return owners;
    return owners.map((id) => (this.#ghosts.has(id) ? GHOST_PREFIX + id : id));
  }

  newOwners(position: bigint): string[] {
    return this.incoming ? this.incoming.preferenceList(position, this.replicas) : this.oldOwners(position);
  }

  placement(position: bigint): Placement {
    const old = this.oldOwners(position);
    if (!this.incoming) return { epoch: this.epoch, read: old, writes: [old] };
    const fresh = this.incoming.preferenceList(position, this.replicas);
    return { epoch: this.epoch, read: this.#readNew ? fresh : old, writes: sameSet(old, fresh) ? [old] : [old, fresh] };
  }

  /** Every member that should hold a key at `position` now: old and new owners, no ghosts. */
  holders(position: bigint): string[] {
    const old = this.oldOwners(position).filter((o) => !isGhost(o));
    if (!this.incoming) return old;
    const all = [...old];
    for (const id of this.incoming.preferenceList(position, this.replicas)) if (!all.includes(id)) all.push(id);
    return all;
  }

  /** Whether the owners at `position` change in this transition. */
  changes(position: bigint): boolean {
    return this.incoming !== undefined && !sameSet(this.oldOwners(position), this.incoming.preferenceList(position, this.replicas));
  }

  /** One position per arc of the ring (each vnode's own, on both rings): owners are constant between them. */
  arcEnds(): bigint[] {
    const ends = this.current.vnodes().map((v) => v.position);
    if (this.incoming) for (const v of this.incoming.vnodes()) ends.push(v.position);
    return ends;
  }
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}

/**
 * Rings are built from member ids alone, so every node (and, in the simulator, every node
 * of the process) can share one per member list; a few recent ones are kept.
 */
const recentRings = new Map<string, Ring>();
const RECENT_RINGS = 16;

export function ringOf(ids: readonly string[], vnodes: number): Ring {
  const key = `${vnodes}|${ids.join(",")}`;
  let ring = recentRings.get(key);
  if (ring) {
    recentRings.delete(key);
    recentRings.set(key, ring);
    return ring;
  }
  ring = new Ring();
  for (const id of ids) ring.add(id, vnodePositions(id, vnodes));
  ring.vnodes(); // merge now: a shared ring is never changed again
  recentRings.set(key, ring);
  if (recentRings.size > RECENT_RINGS) recentRings.delete(recentRings.keys().next().value!);
  return ring;
}
