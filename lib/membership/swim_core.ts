/**
 * What the parts of the membership protocol share: the probe loop (probe.ts) and the
 * full-state exchanges (state_sync.ts) work on the node's table through this, and
 * swim.ts, which owns the state, implements it.
 */
import type { Config } from "../config.ts";
import type { Env } from "../env.ts";
import type { MemberEvents } from "../explain/events.ts";
import type { Awareness } from "./awareness.ts";
import type { Member, Update } from "./member.ts";
import type { SwimMessage } from "../wire/swim.ts";
import type { Suspicions } from "./suspicion.ts";
import type { SwimStats } from "./swim_metrics.ts";
import type { MemberTable } from "./table.ts";
import type { OwnWord } from "./own_word.ts";

/** The options membership reads; their meaning and defaults are in config.ts. */
export type SwimConfig = Pick<
  Config,
  | "protocolPeriodMs"
  | "pingTimeoutMs"
  | "indirectProbes"
  | "suspicionMult"
  | "suspicionMaxMult"
  | "retransmitMult"
  | "gossipIntervalMs"
  | "gossipNodes"
  | "pushPullIntervalMs"
  | "reapAfterMs"
  | "introducers"
>;

export type SwimEnv = Pick<Env, "clock" | "random" | "transport" | "log">;

/** The ring epoch each message carries, and what to do on hearing a later one. */
export interface EpochGossip {
  epoch(): number;
  heardEpoch(peer: string, epoch: number): void;
}

export const NO_EPOCHS: EpochGossip = { epoch: () => 0, heardEpoch: () => {} };

/** The sender fields every message starts with. */
export interface Header {
  from: string;
  incarnation: number;
  epoch: number;
}

export interface SwimCore {
  readonly self: string;
  readonly config: SwimConfig;
  readonly env: SwimEnv;
  readonly table: MemberTable;
  readonly suspicions: Suspicions;
  readonly awareness: Awareness;
  readonly stats: SwimStats;
  /** What happened to each member, for /cluster/explain. */
  readonly events: MemberEvents;
  readonly running: boolean;
  /** Whether this node has had a member's full table (or starts the cluster): a joiner still waiting knows too little to accuse. */
  readonly joined: boolean;
  header(): Header;
  /** The one place an update is applied: table, suspicion timers, gossip, listeners (`fromFullState`: out of a sync). */
  apply(update: Update, fromFullState?: boolean): void;
  /** Sends one message and decodes the reply; undefined on timeout, error or a bad reply. */
  send(peer: string, message: SwimMessage, timeoutMs: number): Promise<SwimMessage | undefined>;
  /** Membership updates to ride on one outgoing message. */
  piggyback(): Update[];
  /** A timer that stop() cancels. */
  schedule(fn: () => void, ms: number): void;
  jitter(ms: number): number;
  randomMembers(count: number, keep: (m: Member) => boolean): string[];
  /** Members alive or suspect, self included: the ones that count toward N. */
  liveCount(): number;
  /** What this node says of itself: the first entry of its full state. */
  selfUpdate(): Update;
  /** Refutes an accusation this node held, once it may (own_word.ts); called every protocol period. */
  wellAgain(): void;
  /** What this node says of itself, and the accusation it holds, if any. */
  readonly own: OwnWord;
}

/** A ping addressed to another node reached this one (a restart with a new identity). */
export class MisdirectedError extends Error {
  override name = "MisdirectedError";
  constructor(readonly target: string, readonly self: string) {
    super(`this is ${self}, not ${target}`);
  }
}
