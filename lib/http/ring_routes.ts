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
  writeQuorum: number;
  readQuorum: number;
  vnodes: number;
  /** What each owner of a key holds (the coordinator's `inspect`). */
  inspect: (key: string) => Promise<{ copies: unknown[] }>;
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

export function addRingRoutes(router: RouterType, { topology, replicas, writeQuorum, readQuorum, vnodes, inspect }: RingRouteOptions): void {
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
        quorum: { n: replicas, w: writeQuorum, r: readQuorum },
        // Each virtual node owns the keys after the previous position, up to its own.
        // During a transition, `moving`: the range ending here changes owners.
        vnodes: layout.current.vnodes().map((v) => ({
          position: positionHex(v.position),
          member: v.member,
          ...(layout.stable ? {} : { moving: layout.changes(v.position) }),
        })),
      });
    })
    .get("/cluster/locate/:key", async (request: Request & { params: { key: string } }) => {
      const key = decodeKey(request.params.key);
      const position = ringPosition(key);
      const { layout } = topology;
      const placement = layout.placement(position);
      // `?versions`: also what each owner holds, asked one by one.
      const versions = new URL(request.url).searchParams.has("versions") ? { copies: (await inspect(key)).copies } : {};
      return jsonResponse(200, {
        key,
        position: positionHex(position),
        epoch: layout.epoch,
        replicas: layout.current.preferenceList(position, replicas),
        ...(layout.stable ? {} : { read: placement.read, writes: placement.writes }),
        ...versions,
      });
    });
}
