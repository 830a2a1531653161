/** The ring, for operators: `GET /cluster/ring` and `GET /cluster/locate/{key}`. */
import type { RouterType } from "itty-router";
import { positionHex, ringPosition } from "../ring/hash.ts";
import { stateChecksum } from "../topology/state.ts";
import type { Topology } from "../topology/topology.ts";
import { decodeKey } from "./kv_routes.ts";
import { jsonResponse } from "./errors.ts";

interface RingRouteOptions {
  topology: Topology;
  replicas: number;
  vnodes: number;
}

/**
 * What every view of the ring reports: the epoch and a checksum of its whole value (also
 * as `ringChecksum`, the name /health and /cluster/members gave it before epochs).
 */
export function ringSummary(topology: Topology) {
  const { state } = topology;
  const checksum = stateChecksum(state);
  return { epoch: state.epoch, checksum, ringChecksum: checksum, phase: state.phase };
}

export function addRingRoutes(router: RouterType, { topology, replicas, vnodes }: RingRouteOptions): void {
  router
    .get("/cluster/ring", () => {
      const { state, layout } = topology;
      return jsonResponse(200, {
        ...ringSummary(topology),
        members: layout.current.members(),
        // During a transition: the owners ranges are moving to.
        next: state.next.map((m) => m.id),
        processes: { members: state.members, next: state.next },
        vnodesPerMember: vnodes,
        // Each virtual node owns the keys after the previous position, up to its own.
        vnodes: layout.current.vnodes().map((v) => ({ position: positionHex(v.position), member: v.member })),
      });
    })
    .get("/cluster/locate/:key", (request: Request & { params: { key: string } }) => {
      const key = decodeKey(request.params.key);
      const position = ringPosition(key);
      const { layout } = topology;
      const placement = layout.placement(position);
      return jsonResponse(200, {
        key,
        position: positionHex(position),
        epoch: layout.epoch,
        replicas: layout.current.preferenceList(position, replicas),
        ...(layout.stable ? {} : { read: placement.read, writes: placement.writes }),
      });
    });
}
