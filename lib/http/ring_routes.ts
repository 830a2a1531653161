/** The ring, for operators: `GET /cluster/ring` and `GET /cluster/locate/{key}`. */
import type { RouterType } from "itty-router";
import { positionHex, ringPosition } from "../ring/hash.ts";
import type { Ring } from "../ring/ring.ts";
import { decodeKey } from "./kv_routes.ts";
import { jsonResponse } from "./errors.ts";

interface RingRouteOptions {
  ring: Ring;
  replicas: number;
  vnodes: number;
}

export function addRingRoutes(router: RouterType, { ring, replicas, vnodes }: RingRouteOptions): void {
  router
    .get("/cluster/ring", () =>
      jsonResponse(200, {
        checksum: ring.checksum(),
        members: ring.members(),
        vnodesPerMember: vnodes,
        // Each virtual node owns the keys after the previous position, up to its own.
        vnodes: ring.vnodes().map((v) => ({ position: positionHex(v.position), member: v.member })),
      }))
    .get("/cluster/locate/:key", (request: Request & { params: { key: string } }) => {
      const key = decodeKey(request.params.key);
      const position = ringPosition(key);
      return jsonResponse(200, { key, position: positionHex(position), replicas: ring.preferenceList(position, replicas) });
    });
}
