/** Operator routes: health, membership and metrics, all read-only JSON or Prometheus text. */
import type { RouterType } from "itty-router";
import { isReaped } from "../membership/member.ts";
import type { Swim } from "../membership/swim.ts";
import type { Metrics } from "../metrics.ts";
import type { Topology } from "../topology/topology.ts";
import { ringSummary } from "./ring_routes.ts";
import type { Store } from "../store/store.ts";
import { BadRequestError, jsonResponse, NotFoundError } from "./errors.ts";

export interface NodeInfo {
  id: string;
  runtime: string;
  version: string;
  startedAt: number;
}

export interface ClusterRouteOptions {
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
        // This node's clock, so a client can age the members' `since` without its own.
        now: now(),
        incarnation: swim.incarnation,
        awareness: swim.awarenessScore,
        ...ringSummary(topology),
        members: swim.members(),
      }))
    .get("/cluster/explain/:member", (request: Request & { params: { member: string } }) => {
      // Why a member has its state, as this node saw it: probes, suspicions, refutations, the ring.
      const id = decodeMember(request.params.member);
      const member = swim.member(id);
      const events = swim.events.of(id);
      if (!member && events.length === 0) throw new NotFoundError(`no member ${JSON.stringify(id)} is known here`);
      return jsonResponse(200, {
        id,
        state: member?.state ?? "forgotten",
        incarnation: member?.incarnation ?? null,
        // Gone long enough to be left out of /cluster/members; still held, so stale news cannot revive it.
        ...(member && isReaped(member, now(), swim.config.reapAfterMs) ? { reaped: true } : {}),
        ...(member?.suspicion ? { suspicion: member.suspicion } : {}),
        inRing: topology.layout.current.members().includes(id),
        events,
      });
    })
    .get("/cluster/events", (request: Request) => {
      // The latest membership and ring events across members, for the dashboard's log.
      const raw = new URL(request.url).searchParams.get("after");
      const after = raw === null ? -Infinity : Number(raw);
      if (Number.isNaN(after)) throw new BadRequestError(`after must be a time in ms: received ${JSON.stringify(raw)}`);
      return jsonResponse(200, { events: swim.events.recent(after) });
    })
    .get("/metrics", () =>
      new Response(metrics.render(), { headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" } }));
}

function decodeMember(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new BadRequestError("member id is not valid percent-encoding");
  }
}
