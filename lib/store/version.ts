/**
 * Versions: a hybrid logical clock timestamp plus the writer's node id.
 *
 * The HLC keeps versions close to wall time (so an operator can read them) while
 * guaranteeing that a node never issues a version lower than one it has seen, whatever
 * its clock says. The node id breaks ties between two writers that issued the same
 * (wall, logical) pair, so any two distinct writes are strictly ordered.
 *
 * A conditional write (lib/cas) is not stamped by a clock: it takes the version right after
 * the one it was conditioned on, its `step` one higher, its `ballot` telling apart
 * proposals over the same version. No plain write's version can fall between the two, so
 * the order of versions stays an order in which every condition held (docs/cas.md).
 */

/**
 * A conditional write's Paxos ballot: the ring epoch it was proposed in, then an HLC
 * timestamp of its proposer, unique per proposal. The epoch comes first so that a proposal
 * in a later epoch outranks every one before it: acceptors' promises stay behind with the
 * old owners when a range moves (docs/cas.md).
 */
export interface Ballot {
  epoch: number;
  wall: number;
  logical: number;
  node: string;
}

export interface Version {
  /** Milliseconds since the epoch: the highest physical time the issuer had seen. */
  wall: number;
  /** Counter for events within the same `wall` millisecond. */
  logical: number;
  /** The issuing node's id (`host:port`). */
  node: string;
  /**
   * Conditional writes since the plain write (wall, logical, node) they build on; absent
   * for a plain write. A chain begun over an absent key starts from its first ballot's
   * time with no node (`fresh`).
   */
  step?: number;
  /** The ballot of the conditional write that made this version; present exactly when `step` is. */
  ballot?: Ballot;
}

type Stamp = Pick<Version, "wall" | "logical" | "node">;

/** Orders two (wall, logical, node) triples: the plain part of versions. */
export function compareStamps(a: Stamp, b: Stamp): number {
  if (a.wall !== b.wall) return a.wall < b.wall ? -1 : 1;
  if (a.logical !== b.logical) return a.logical < b.logical ? -1 : 1;
  if (a.node === b.node) return 0;
  return a.node < b.node ? -1 : 1;
}

/** Negative when a < b, zero when equal, positive when a > b. A total order. */
export function compareVersions(a: Version, b: Version): number {
  const plain = compareStamps(a, b);
  if (plain !== 0) return plain;
  const stepA = a.step ?? 0;
  const stepB = b.step ?? 0;
  if (stepA !== stepB) return stepA < stepB ? -1 : 1;
  return stepA === 0 ? 0 : compareBallots(a.ballot!, b.ballot!);
}

export function compareBallots(a: Ballot, b: Ballot): number {
  if (a.epoch !== b.epoch) return a.epoch < b.epoch ? -1 : 1;
  return compareStamps(a, b);
}

/** A chain of conditional writes begun over an absent key: no plain write lies under it. */
export const isFresh = (v: Version): boolean => v.step !== undefined && v.node === "";

/** The version a conditional write over `base` (undefined: an absent key) takes with `ballot`. */
export function successor(base: Version | undefined, ballot: Ballot): Version {
  if (!base) return { wall: ballot.wall, logical: ballot.logical, node: "", step: 1, ballot };
  return { wall: base.wall, logical: base.logical, node: base.node, step: (base.step ?? 0) + 1, ballot };
}

/**
 * Whether a replica that refused to store `written` because it holds `held` has it, as far
 * as the writer's quorum goes (ABD's rule: the write is ordered just before the newer one
 * and overwritten). Stores hold only chosen conditional writes, so this holds for them too,
 * but for one case: a plain write behind a chain begun over an absent key. That chain's
 * first write saw no value, so it cannot be ordered after this one; the plain write is not
 * counted there (and fails if it cannot make its quorum elsewhere).
 */
export function holds(held: Version, written: Version): boolean {
  const order = compareVersions(held, written);
  if (order === 0) return true;
  if (order < 0) return false;
  return written.step !== undefined || !isFresh(held);
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
    const state = (this.#state = hlcTick(this.#state, this.#now()));
    // Field by field: every write takes a version, and V8's object spread is slow here.
    return { wall: state.wall, logical: state.logical, node: this.node };
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

/**
 * `1732320000000.3@127.0.0.1:8000`; a conditional write's adds `+step:epoch.wall.logical@node`
 * (its ballot), and one over an absent key has no node before it:
 * `1732320000450.0@+1:7.1732320000450.0@127.0.0.1:8001`. Round-trips through `parseVersion`.
 */
export function formatVersion(v: Version): string {
  const plain = `${v.wall}.${v.logical}@${v.node}`;
  return v.step ? `${plain}+${v.step}:${formatBallot(v.ballot!)}` : plain;
}

/** `7.1732320000450.0@127.0.0.1:8001`: epoch, then the proposer's HLC time and id. */
export const formatBallot = (b: Ballot): string => `${b.epoch}.${b.wall}.${b.logical}@${b.node}`;

const VERSION_TEXT = /^(\d{1,16})\.(\d{1,16})@([^+@\s]{0,300})(?:\+(\d{1,16}):(\d{1,16})\.(\d{1,16})\.(\d{1,16})@([^+@\s]{1,300}))?$/;

export function parseVersion(s: string): Version | undefined {
  const m = VERSION_TEXT.exec(s);
  if (!m) return undefined;
  const numbers = [m[1], m[2], m[4], m[5], m[6], m[7]].map((d) => (d === undefined ? 0 : Number(d)));
  if (!numbers.every(Number.isSafeInteger)) return undefined;
  const [wall, logical, step, epoch, ballotWall, ballotLogical] = numbers as [number, number, number, number, number, number];
  const node = m[3]!;
  if (m[4] === undefined) return node === "" ? undefined : { wall, logical, node };
  if (step < 1) return undefined;
  return { wall, logical, node, step, ballot: { epoch, wall: ballotWall, logical: ballotLogical, node: m[8]! } };
}
