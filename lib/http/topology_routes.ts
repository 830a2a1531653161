/** The agreed ring's internal routes: `POST /_ring/{prepare,accept,status,hello,get}`, msgpack in and out. */
import type { RouterType } from "itty-router";
import { MAX_TOPOLOGY_MESSAGE_BYTES } from "../topology/messages.ts";
import type { Topology } from "../topology/topology.ts";
import { readBodyLimited } from "./body.ts";
import { msgpackResponse } from "./errors.ts";

const KINDS = new Set(["prepare", "accept", "status", "hello", "get"]);

export function addTopologyRoutes(router: RouterType, topology: Topology): void {
  router.post("/_ring/:kind", async (request: Request & { params: { kind: string } }) => {
    const { kind } = request.params;
    if (!KINDS.has(kind)) return undefined; // falls through to the 404
    return msgpackResponse(topology.handle(kind, await readBodyLimited(request, MAX_TOPOLOGY_MESSAGE_BYTES)));
  });
}
