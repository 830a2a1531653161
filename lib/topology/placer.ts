/** The coordinator's view of the agreed ring (replication/coordinator.ts `Placer`). */
import type { Placer } from "../replication/placed.ts";
import { ringHalves } from "../ring/hash.ts";
import { lostQuorum } from "./lost.ts";
import type { Placement } from "./placement.ts";
import type { QuorumConfig } from "./range_steps.ts";
import type { Topology } from "./topology.ts";

/** This node has not learned a ring yet (it is joining): it cannot place any key. */
export class NoRingError extends Error {
  override name = "NoRingError";
  constructor() {
    super("this node has not learned the ring yet");
  }
}

/** How long a coordinator waits to catch up with a later epoch before giving its answer. */
const CATCH_UP_WAIT_MS = 1_000;

/**
 * `quorum`: the configured N, W, R, to tell a range that lost its quorum; `self`: where the
 * `recover` command a 503 suggests is sent.
 */
export function topologyPlacer(topology: Topology, quorum: QuorumConfig, self: string): Placer {
  let rangesOf: { layout: Topology["layout"]; ranges: Placement[] } | undefined;
  return {
    place(position: bigint): Placement {
      if (topology.epoch === 0) throw new NoRingError();
      return topology.layout.placement(position);
    },
    placeKey(key: string): Placement {
      if (topology.epoch === 0) throw new NoRingError();
      return topology.layout.placementOfHalves(ringHalves(key));
    },
    catchUp(epoch, peer) {
      return topology.catchUp(epoch, peer, CATCH_UP_WAIT_MS);
    },
    lost(position) {
      const pin = topology.layout.pinAt(position);
      const lost = pin && lostQuorum(topology.state, pin, quorum);
      if (!lost) return undefined;
      const { range, dead, since } = lost;
      return { quorumLost: true, range, dead, since, recover: `npx tsx mod.ts recover ${self} --range ${range}` };
    },
    ranges() {
      if (topology.epoch === 0) throw new NoRingError();
      const layout = topology.layout;
      if (rangesOf?.layout !== layout) rangesOf = { layout, ranges: distinctPlacements(layout.arcEnds().map((end) => layout.placement(end))) };
      return rangesOf.ranges;
    },
  };
}

/** The placements of every range, each owner arrangement once. */
function distinctPlacements(all: Placement[]): Placement[] {
  const seen = new Map<string, Placement>();
  for (const p of all) seen.set(`${p.read.join(",")}|${p.writes.map((w) => w.join(",")).join(";")}`, p);
  return [...seen.values()];
}
