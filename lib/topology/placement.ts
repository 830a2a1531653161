/**
 * Where a key lives in one epoch: the rings of its old and new owners, pinned ranges that
 * override them, and from these the owners a read asks and the sets a write must reach W
 * of. Pure over a TopologyState.
 */
import { joinHalves, type PositionHalves, vnodePositions } from "../ring/hash.ts";
import { Ring } from "../ring/ring.ts";
import { pinAt, type RangeOwners } from "./pins.ts";
import { memberKey, type MemberRef, type Pin, superseded, supersededKeys, type TopologyState } from "./state.ts";

/** What a coordinator needs for one key in one epoch. */
export interface Placement {
  epoch: number;
  /** Reads ask R of these. */
  read: readonly string[];
  /** Writes need W of each set; one set when the range is not moving. */
  writes: ReadonlyArray<readonly string[]>;
}

/**
 * An old owner whose address a restarted process now holds stands in a placement as
 * `~address`: it counts toward N, but no answer can come from it.
 */
export const GHOST_PREFIX = "~";
export const isGhost = (owner: string): boolean => owner.startsWith(GHOST_PREFIX);

/** A pinned range as placements use it: owner ids (ghosts marked), worked out once per epoch. */
interface PinView {
  old: string[];
  fresh: string[];
  moving: boolean;
  placement: Placement;
}

export class Layout {
  readonly epoch: number;
  /** The owners' ring (the old owners' during a transition). */
  readonly current: Ring;
  /** The new owners' ring during a transition. */
  readonly incoming: Ring | undefined;
  readonly pins: readonly Pin[];
  readonly #ghosts: Set<string>;
  readonly #readNew: boolean;
  readonly #pinViews = new Map<Pin, PinView>();
  /** A settled ring's placements, by the preference list the ring keeps for them (at most one per vnode). */
  readonly #settledPlacements = new Map<readonly string[], Placement>();
  readonly #refs: { current: Map<string, MemberRef>; incoming: Map<string, MemberRef> };

  constructor(readonly state: TopologyState, readonly vnodes: number, readonly replicas: number) {
    this.epoch = state.epoch;
    this.current = ringOf(state.members.map((m) => m.id), vnodes);
    this.incoming = state.phase === "stable" ? undefined : ringOf(state.next.map((m) => m.id), vnodes);
    this.#ghosts = superseded(state);
    this.#readNew = state.phase === "write_both_read_new";
    this.pins = state.pins;
    this.#refs = { current: new Map(state.members.map((m) => [m.id, m])), incoming: new Map(state.next.map((m) => [m.id, m])) };
    const pinGhosts = supersededKeys(state);
    const ids = (refs: readonly MemberRef[]) => refs.map((m) => (pinGhosts.has(memberKey(m)) ? GHOST_PREFIX + m.id : m.id));
    for (const pin of state.pins) {
      const old = ids(pin.members);
      const fresh = ids(pin.next);
      const moving = !sameSet(old, fresh);
      const placement = { epoch: this.epoch, read: pin.readNew && moving ? fresh : old, writes: moving ? [old, fresh] : [old] };
      this.#pinViews.set(pin, { old, fresh, moving, placement });
    }
  }

  /** No transition under way (pinned ranges may still be moving: see `moving`). */
  get stable(): boolean {
    return this.incoming === undefined;
  }

  /** Whether some range changes owners in this epoch: a transition, or a pinned range on its way. */
  get moving(): boolean {
    return !this.stable || [...this.#pinViews.values()].some((v) => v.moving);
  }

  pinAt(position: bigint): Pin | undefined {
    return this.pins.length === 0 ? undefined : pinAt(this.pins, position);
  }

  #pin(position: bigint): PinView | undefined {
    const pin = this.pinAt(position);
    return pin && this.#pinViews.get(pin);
  }

  /** The old owners at `position` (ghosts marked), or the owners when the range is not moving. */
  oldOwners(position: bigint): readonly string[] {
    const pin = this.#pin(position);
    if (pin) return pin.old;
    return this.#ringOwners(position);
  }

  #ringOwners(position: bigint): readonly string[] {
    const owners = this.current.preferenceList(position, this.replicas);
    if (this.#ghosts.size === 0) return owners;
    return owners.map((id) => (this.#ghosts.has(id) ? GHOST_PREFIX + id : id));
  }

  newOwners(position: bigint): readonly string[] {
    const pin = this.#pin(position);
    if (pin) return pin.fresh;
    return this.incoming ? this.incoming.preferenceList(position, this.replicas) : this.#ringOwners(position);
  }

  placement(position: bigint): Placement {
    const pin = this.#pin(position);
    if (pin) return pin.placement;
    const old = this.#ringOwners(position);
    if (!this.incoming) return { epoch: this.epoch, read: old, writes: [old] };
    const fresh = this.incoming.preferenceList(position, this.replicas);
    return { epoch: this.epoch, read: this.#readNew ? fresh : old, writes: sameSet(old, fresh) ? [old] : [old, fresh] };
  }

  /**
   * `placement` of a position given as halves. On a settled ring each preference list has
   * one Placement, made once and shared, found without BigInt: every request places its key.
   */
  placementOfHalves(position: PositionHalves): Placement {
    if (!this.#settled) return this.placement(joinHalves(position));
    const owners = this.current.preferenceListOfHalves(position.high, position.low, this.replicas);
    let placement = this.#settledPlacements.get(owners);
    if (!placement) this.#settledPlacements.set(owners, (placement = { epoch: this.epoch, read: owners, writes: [owners] }));
    return placement;
  }

  /** Every member that should hold a key at `position` now: old and new owners, no ghosts. */
  holders(position: bigint): readonly string[] {
    if (this.#settled) return this.current.preferenceList(position, this.replicas);
    const old = this.oldOwners(position).filter((o) => !isGhost(o));
    const all = [...old];
    for (const id of this.newOwners(position)) if (!all.includes(id) && !isGhost(id)) all.push(id);
    return all;
  }

  /**
   * `holders` of a position given as halves: a stabilisation scan asks this for every stored
   * key, and on a settled ring it is the ring's shared preference list, found without BigInt.
   */
  holdersOfHalves(position: PositionHalves): readonly string[] {
    if (this.#settled) return this.current.preferenceListOfHalves(position.high, position.low, this.replicas);
    return this.holders(joinHalves(position));
  }

  /** No range moving, pinned or held by a superseded process: each position's holders are its preference list. */
  get #settled(): boolean {
    return !this.incoming && this.#pinViews.size === 0 && this.#ghosts.size === 0;
  }

  /** Whether the owners at `position` change in this epoch. */
  changes(position: bigint): boolean {
    const pin = this.#pin(position);
    if (pin) return pin.moving;
    return this.incoming !== undefined && !sameSet(this.#ringOwners(position), this.incoming.preferenceList(position, this.replicas));
  }

  /** The range holding `position` as processes: what the planner reasons about. */
  rangeAt(position: bigint): RangeOwners {
    const pin = this.pinAt(position);
    if (pin) return pin;
    const members = this.current.preferenceList(position, this.replicas).map((id) => this.#refs.current.get(id)!);
    if (!this.incoming) return { members, next: members, readNew: false };
    const next = this.incoming.preferenceList(position, this.replicas).map((id) => this.#refs.incoming.get(id)!);
    return { members, next, readNew: this.#readNew };
  }

  /**
   * Positions that end the ranges of constant owners: every vnode's (on both rings), and
   * every pin's last position and the one before its first.
   */
  arcEnds(): bigint[] {
    const ends = this.current.vnodes().map((v) => v.position);
    if (this.incoming) for (const v of this.incoming.vnodes()) ends.push(v.position);
    for (const pin of this.pins) {
      ends.push(pin.hi);
      if (pin.lo > 0n) ends.push(pin.lo - 1n);
    }
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
