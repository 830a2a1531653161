/** What the coordinator's read and write paths share. */
import type { Entry } from "../store/store.ts";
import type { Hlc } from "../store/version.ts";
import type { Pending } from "../wire/cas.ts";
import type { Placement } from "../topology/placement.ts";
import type { Placements } from "./placed.ts";
import { type Consistency, quorumSizes } from "./quorum.ts";
import type { Replica } from "./replica.ts";
import type { ReplicaClient } from "./replica_client.ts";

export interface QuorumConfig {
  replicas: number;
  writeQuorum: number;
  readQuorum: number;
}

export interface QuorumContext {
  self: string;
  config: QuorumConfig;
  client: ReplicaClient;
  placements: Placements;
  /** This node's own replica, for keys only it holds. */
  replica: Replica;
  hlc: Hlc;
  /** The time past which expiring entries are not served: this node's clock plus the skew allowance (`--expiry-skew-ms`). */
  horizon(): number;
  /**
   * A read that met a conditional write accepted above every stored version: one round of
   * Paxos over the key's owners finishes it if it may have been chosen (lib/cas), and
   * resolves to the newest chosen entry, stored on W of every write set; undefined when the
   * round lost to contention (the read starts over). `seen`: the proposals the read's
   * owners named, which may already show it chosen (then no round is needed). Absent: such
   * proposals are ignored (the control in tests, which shows what finishing prevents).
   */
  finishPending?(key: string, p: Placement, seen: ReadonlyMap<string, Pending>, round: number): Promise<{ entry: Entry | undefined } | undefined>;
}

/** A key whose only replica is this node: no quorum to gather, no message to send. */
export function onlyHere(self: string, p: Placement): boolean {
  return p.writes.length === 1 && p.read.length === 1 && p.read[0] === self;
}

/**
 * The usual case: a stable ring, this node one of the key's owners, R = 2 and W ≤ 2. This
 * node and any one other owner are then a read quorum and make W, so a read asks one
 * partner (read.ts, `readWithOnePeer`) and a write takes one round trip (write.ts,
 * `writeInOneRound`).
 */
export function ownerOfTwoQuorum(ctx: Pick<QuorumContext, "self" | "config">, p: Placement, consistency: Consistency): boolean {
  if (p.writes.length !== 1 || !p.read.includes(ctx.self)) return false;
  const { r, w } = quorumSizes(ctx.config, p.read.length, consistency);
  return r === 2 && w <= 2;
}

/** W of every write set, for this consistency. */
export function writeNeeds(config: QuorumConfig, p: Placement, consistency: Consistency): number[] {
  return p.writes.map((set) => quorumSizes(config, set.length, consistency).w);
}
