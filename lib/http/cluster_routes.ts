/** Operator routes: health, membership and metrics, all read-only JSON or Prometheus text. */
import type { RouterType } from "itty-router";
import type { Swim } from "../membership/swim.ts";
import type { Metrics } from "../metrics.ts";
import type { Topology } from "../topology/topology.ts";
import { ringSummary } from "./ring_routes.ts";
import type { Store } from "../store/store.ts";
import { jsonResponse } from "./errors.ts";

export interface NodeInfo {
  id: string;
  runtime: string;
  version: string;
  startedAt: number;
}

interface ClusterRouteOptions {
  info: NodeInfo;
  store: Store;
  swim: Swim;
  topology: Topology;
  metrics: Metrics;
  now: () => number;
}

export function addClusterRoutes(router: RouterType, { info, store, swim, topology, metrics, now }: ClusterRouteOptions): void {
  router
    .get("/health", () =>
      jsonResponse(200, {
        status: "ok",
        id: info.id,
        runtime: info.runtime,
        version: info.version,
        uptimeMs: now() - info.startedAt,
        ...ringSummary(topology),
        member: topology.isMember,
        ...store.stats(),
      }))
    .get("/cluster/members", () =>
      jsonResponse(200, {
        self: info.id,
        incarnation: swim.incarnation,
        awareness: swim.awarenessScore,
        ...ringSummary(topology),
        members: swim.members(),
      }))
    .get("/metrics", () =>
      new Response(metrics.render(), { headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" } }));
}
