/**
 * Versions: a hybrid logical clock timestamp plus the writer's node id.
 *
 * The HLC keeps versions close to wall time (so an operator can read them) while
 * guaranteeing that a node never issues a version lower than one it has seen, whatever
 * its clock says. The node id breaks ties between two writers that issued the same
 * (wall, logical) pair, so any two distinct writes are strictly ordered.
 */

export interface Version {
  /** Milliseconds since the epoch: the highest physical time the issuer had seen. */
  wall: number;
  /** Counter for events within the same `wall` millisecond. */
  logical: number;
  /** The issuing node's id (`host:port`). */
  node: string;
}

/** Negative when a < b, zero when equal, positive when a > b. A total order. */
export function compareVersions(a: Version, b: Version): number {
  if (a.wall !== b.wall) return a.wall < b.wall ? -1 : 1;
  if (a.logical !== b.logical) return a.logical < b.logical ? -1 : 1;
  if (a.node === b.node) return 0;
  return a.node < b.node ? -1 : 1;
}

export function isNewer(candidate: Version, current: Version | undefined): boolean {
  return current === undefined || compareVersions(candidate, current) > 0;
}

/** The HLC's own state: the last timestamp it issued or observed. */
export interface HlcState {
  wall: number;
  logical: number;
}

export const hlcZero: HlcState = { wall: 0, logical: 0 };

/** A local event (a write this node coordinates) at physical time `now`. */
export function hlcTick(state: HlcState, now: number): HlcState {
  if (now > state.wall) return { wall: now, logical: 0 };
  return { wall: state.wall, logical: state.logical + 1 };
}

/**
 * A timestamp arrives from elsewhere (a stored version, a peer's message): the clock moves
 * past it so that the next tick is higher than anything seen. Standard HLC receive rule.
 */
export function hlcObserve(state: HlcState, remote: HlcState, now: number): HlcState {
  const wall = Math.max(state.wall, remote.wall, now);
  if (wall === state.wall && wall === remote.wall) {
    return { wall, logical: Math.max(state.logical, remote.logical) + 1 };
  }
  if (wall === state.wall) return { wall, logical: state.logical + 1 };
  if (wall === remote.wall) return { wall, logical: remote.logical + 1 };
  return { wall, logical: 0 };
}

/** A node's clock: wraps the pure rules above around the injected wall clock. */
export class Hlc {
  #state: HlcState = hlcZero;
  readonly #now: () => number;
  constructor(private readonly node: string, now: () => number) {
    // Whole milliseconds: a version's wall time is an integer on the wire, whatever the clock.
    this.#now = () => Math.floor(now());
  }

  /** A fresh version, higher than every version this clock has issued or observed. */
  next(): Version {
    this.#state = hlcTick(this.#state, this.#now());
    return { ...this.#state, node: this.node };
  }

  /** A fresh version strictly above `floor` too: used to retry a refused write. */
  nextAbove(floor: Version): Version {
    this.observe(floor);
    return this.next();
  }

  observe(remote: HlcState): void {
    this.#state = hlcObserve(this.#state, remote, this.#now());
  }
}

/** `1732320000000.3@127.0.0.1:8000`: short, sortable by eye, round-trips through `parseVersion`. */
export function formatVersion(v: Version): string {
  return `${v.wall}.${v.logical}@${v.node}`;
}

export function parseVersion(s: string): Version | undefined {
  const m = /^(\d+)\.(\d+)@(.+)$/.exec(s);
  if (!m) return undefined;
  return { wall: Number(m[1]), logical: Number(m[2]), node: m[3]! };
}
