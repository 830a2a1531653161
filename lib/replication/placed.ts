/**
 * Running an operation across a transition's epochs. A replica that knows a later epoch
 * than the coordinator refuses (409); once this node has caught up, the operation runs
 * again on the newer placement. A transition decides three epochs in quick succession, so
 * up to MAX_PLACEMENTS times in all.
 */
import type { Placement } from "../topology/placement.ts";
import { QuorumError, type QuorumErrorDetail } from "./quorum.ts";
import type { ReplicaClient } from "./replica_client.ts";

/** Where keys live: the coordinator's one call into the ring. */
export interface Placer {
  /** The key's placement in the latest epoch this node knows; throws when it knows none. */
  place(position: bigint): Placement;
  /** `place(ringPosition(key))`, made cheaper where it can be: each request places its key. */
  placeKey(key: string): Placement;
  /** A replica said it is at `epoch`: resolves once this node has caught up, or given up. */
  catchUp(epoch: number, peer?: string): Promise<void>;
  /** When the range holding `position` lost a quorum of its owners: what a 503 says of it. */
  lost?(position: bigint): QuorumErrorDetail | undefined;
  /** Every range's placement in the latest epoch, each arrangement of owners once (for listings). */
  ranges?(): Placement[];
}

/** Placements an operation is tried on at most: its first, and newer ones after refusals. */
export const MAX_PLACEMENTS = 4;

export class Placements {
  constructor(readonly placer: Placer, readonly client: ReplicaClient) {}

  place(position: bigint): Placement {
    return this.placer.place(position);
  }

  /**
   * Runs `op` on placement `p`, and again on newer placements after refusals. `op` must be
   * safe to run again: it stores nothing, or stores what it stored before.
   */
  async run<T>(position: bigint, p: Placement, op: (p: Placement) => Promise<T>): Promise<{ value: T; placement: Placement }> {
    for (let attempt = 1; ; attempt++) {
      try {
        return { value: await op(p), placement: p };
      } catch (err) {
        const again = attempt < MAX_PLACEMENTS ? await this.replaced(err, position, p) : undefined;
        if (!again) throw err;
        p = again;
      }
    }
  }

  /** After a QuorumError with replicas at a later epoch: the newer placement, once caught up; else undefined. */
  async replaced(err: unknown, position: bigint, p: Placement): Promise<Placement | undefined> {
    const { staleEpoch, stalePeer } = this.client;
    if (!(err instanceof QuorumError) || staleEpoch <= p.epoch) return undefined;
    await this.placer.catchUp(staleEpoch, stalePeer);
    const again = this.placer.place(position);
    return again.epoch > p.epoch ? again : undefined;
  }
}
