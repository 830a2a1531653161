/**
 * The placement dht-node had before agreed epochs, kept as a control for the partition
 * tests: each node places keys on whoever SWIM says is alive, with N, W and R shrunk to
 * fit. Both sides of a partition then make "quorums", which is what the tests must see
 * fail.
 */
import type { Config } from "../../lib/config.ts";
import { isGone } from "../../lib/membership/member.ts";
import type { Swim } from "../../lib/membership/swim.ts";
import type { Placer } from "../../lib/replication/coordinator.ts";
import { ringPosition } from "../../lib/ring/hash.ts";
import { ringOf } from "../../lib/topology/placement.ts";
import type { Topology } from "../../lib/topology/topology.ts";

export function livenessPlacer({ topology, swim, config }: { topology: Topology; swim: Swim; config: Config }): Placer {
  return {
    place(position) {
      const alive = swim.members().filter((m) => !isGone(m.state)).map((m) => m.id).sort();
      const owners = ringOf(alive, config.vnodes).preferenceList(position, config.replicas);
      return { epoch: topology.epoch, read: owners, writes: [owners] };
    },
    placeKey(key) {
      return this.place(ringPosition(key));
    },
    catchUp: async () => {},
  };
}
