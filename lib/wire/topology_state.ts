/**
 * The agreed ring's state as plain data: what each epoch's Paxos decides, and what
 * `/_ring/*` messages carry. Its rules (transitions, acceptors, owners) are topology/state.ts.
 */

export interface MemberRef {
  /** The address other nodes reach it at (host:port): the SWIM id and the ring placement. */
  id: string;
  /** Drawn at process start: a restarted process at the same address is a new member. */
  nonce: string;
}

/** One process, as text: its id and nonce (`removed`, `cluster` and ballots name members so). */
export const memberKey = (m: MemberRef): string => `${m.id}#${m.nonce}`;

export type Phase = "stable" | "write_both_read_old" | "write_both_read_new";

/**
 * A range held by explicit owners instead of the members' ring: one that could not move
 * with the rest. Positions `lo`..`hi` inclusive; its own old owners (`members`), new owners
 * (`next`, equal to `members` when it is not moving) and whether its reads have moved.
 */
export interface Pin {
  lo: bigint;
  hi: bigint;
  members: MemberRef[];
  next: MemberRef[];
  readNew: boolean;
  /** The epoch that pinned it, and the proposer's wall clock then (for "since"). */
  since: number;
  at: number;
}

/** An operator's `recover`: which ranges it gave to their surviving owners, and what it said could be lost. */
export interface Recovery {
  epoch: number;
  at: number;
  by: string;
  /** The ranges, as `lo-hi` in hex. */
  ranges: string[];
  /** The owners given up, as member keys. */
  lost: string[];
  /** What it said before it acted: which acknowledged writes are kept, which may be missing. */
  kept: string;
}

export interface TopologyState {
  /** The founder's member key: rings of different clusters never mix. */
  cluster: string;
  /** 0: no ring known yet (a joiner before it has learned one). */
  epoch: number;
  phase: Phase;
  /** The owners; during a transition, the old owners. Sorted by id, then nonce. */
  members: MemberRef[];
  /** During a transition, the new owners; empty when stable. Sorted likewise. */
  next: MemberRef[];
  /** Keys of members removed, newest last: never added again (a comeback is a new nonce). */
  removed: string[];
  /** Ranges held by their own owners (sorted by `lo`, disjoint); usually none. */
  pins: Pin[];
  /** The latest recoveries an operator ran, newest last (bounded). */
  recoveries: Recovery[];
  /**
   * Who votes on the next epoch, when not every member does: a few members of this value,
   * sorted like `members` (topology/council.ts). Absent or empty: every member votes.
   */
  council?: MemberRef[];
}

/** Removed members remembered; older ones are forgotten first. */
export const MAX_REMOVED = 1_000;
/** Pinned ranges at most: past this a step that would pin more waits instead. */
export const MAX_PINS = 10_000;
/** Members of a council at most (topology/council.ts chooses fewer). */
export const MAX_COUNCIL = 64;
/** Recoveries remembered in the ring. */
export const MAX_RECOVERIES = 20;
