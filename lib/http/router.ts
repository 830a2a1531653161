/**
 * Every route a node serves, in one router: the public key-value API, node-to-node
 * messages, and the operators' cluster views. A path nobody claims is a JSON 404.
 */
import { Router, type RouterType } from "itty-router";
import type { Config } from "../config.ts";
import type { PeerTable } from "../peer/table.ts";
import type { Coordinator } from "../replication/coordinator.ts";
import { addDashboardRoutes } from "./dashboard_routes.ts";
import { addClusterRoutes, type ClusterRouteOptions } from "./cluster_routes.ts";
import { NotFoundError } from "./errors.ts";
import { addKvRoutes } from "./kv_routes.ts";
import { withHotPath } from "./hot_path.ts";
import { addListRoutes } from "./list_routes.ts";
import type { Page, PageQuery } from "../listing/list.ts";
import { type AcceptStream, addPeerRoutes } from "./peer_routes.ts";
import { addRecoverRoutes, type RecoverRouteOptions } from "./recover_routes.ts";
import { addRingRoutes } from "./ring_routes.ts";
import { addSyncRoutes } from "./sync_routes.ts";

export interface RouterParts extends ClusterRouteOptions {
  coordinator: Coordinator;
  /** One page of a listing (lib/listing). */
  list: (query: PageQuery) => Promise<Page>;
  peers: PeerTable;
  acceptStream?: AcceptStream;
  config: Pick<Config, "maxValueBytes" | "replicas" | "writeQuorum" | "readQuorum" | "vnodes">;
  sync: Parameters<typeof addSyncRoutes>[1];
  driver: Parameters<typeof addRingRoutes>[1]["driver"] & RecoverRouteOptions["driver"];
  recover: Pick<RecoverRouteOptions, "tokens" | "env">;
}

/** The node's routes, answered through `fetch`: plain key reads and writes by the hot path, the rest by the router. */
export function nodeRouter(p: RouterParts): { fetch: (request: Request) => Response | Promise<Response> } {
  const router: RouterType = Router();
  addListRoutes(router, p.list);
  const kv = addKvRoutes(router, { coordinator: p.coordinator, maxValueBytes: p.config.maxValueBytes });
  addPeerRoutes(router, p.peers, p.acceptStream);
  addClusterRoutes(router, p);
  addSyncRoutes(router, p.sync);
  const { replicas, writeQuorum, readQuorum, vnodes } = p.config;
  addDashboardRoutes(router);
  addRingRoutes(router, { topology: p.topology, driver: p.driver, replicas, writeQuorum, readQuorum, vnodes, inspect: (key) => p.coordinator.inspect(key) });
  addRecoverRoutes(router, { ...p.recover, topology: p.topology, driver: p.driver, quorum: { replicas, writeQuorum, readQuorum } });
  router.all("*", (request: Request) => {
    throw new NotFoundError(`no route for ${request.method} ${new URL(request.url).pathname}`);
  });
  return { fetch: withHotPath((request) => router.fetch(request), kv) };
}
