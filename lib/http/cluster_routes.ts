/** Operator routes: health, membership and metrics, all read-only JSON or Prometheus text. */
import type { RouterType } from "itty-router";
import type { Metrics } from "../metrics.ts";
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
  metrics: Metrics;
  now: () => number;
}

export function addClusterRoutes(router: RouterType, { info, store, metrics, now }: ClusterRouteOptions): void {
  router
    .get("/health", () =>
      jsonResponse(200, {
        status: "ok",
        id: info.id,
        runtime: info.runtime,
        version: info.version,
        uptimeMs: now() - info.startedAt,
        ...store.stats(),
      }))
    // Until membership exists the node is a cluster of one.
    .get("/cluster/members", () =>
      jsonResponse(200, { self: info.id, members: [{ id: info.id, state: "alive", incarnation: 0 }] }))
    .get("/metrics", () =>
      new Response(metrics.render(), { headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" } }));
}
