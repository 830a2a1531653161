/**
 * A node: `createNode(config, env)` wires the store, the coordinator and the routes, and
 * returns `fetch(Request) → Response`, the node's entire HTTP surface, plus its lifecycle.
 * Adapters serve that `fetch`; tests and the simulator call it directly.
 */
import { Router, type RouterType } from "itty-router";
import type { Config } from "./config.ts";
import type { Env, TimerHandle } from "./env.ts";
import { addClusterRoutes, type NodeInfo } from "./http/cluster_routes.ts";
import { errorResponse, NotFoundError } from "./http/errors.ts";
import { addKvRoutes } from "./http/kv_routes.ts";
import { addRingRoutes } from "./http/ring_routes.ts";
import { addSwimRoutes } from "./http/swim_routes.ts";
import { isGone } from "./membership/member.ts";
import { Swim } from "./membership/swim.ts";
import { type CounterSeries, type HistogramSeries, latencyBuckets, Metrics } from "./metrics.ts";
import { type AcceptStream, addReplicaRoutes, replicaMessages } from "./http/replica_routes.ts";
import { BATCH_SIZE_BUCKETS } from "./replication/batcher.ts";
import { quorumCoordinator } from "./replication/coordinator.ts";
import { HintStore } from "./replication/hints.ts";
import { localReplica } from "./replication/replica.ts";
import { followMembership } from "./ring/follow.ts";
import { Ring } from "./ring/ring.ts";
import { Store } from "./store/store.ts";
import { addSyncRoutes } from "./http/sync_routes.ts";
import { Syncer } from "./sync/syncer.ts";
import { Hlc } from "./store/version.ts";
import { streamResponder, type StreamResponder } from "./stream/responder.ts";
import { BATCH_PATH } from "./replication/messages.ts";

export const VERSION = "0.1.0";

export interface DhtNode {
  readonly id: string;
  readonly store: Store;
  readonly swim: Swim;
  readonly ring: Ring;
  readonly syncer: Syncer;
  readonly metrics: Metrics;
  fetch(request: Request): Promise<Response>;
  /** Answers a peer stream's request frame (lib/stream): adapters hand frames here. */
  answerFrame: StreamResponder;
  /** Starts background work: membership (joining through the introducers) and tombstone purging. */
  start(): void;
  /** Graceful leave: hand every key to its new owners (bounded by --leave-timeout-ms), announce `left`, stop. */
  leave(): Promise<void>;
  /** Stops timers and closes peer connections. Idempotent. */
  stop(): Promise<void>;
}

export interface NodeOptions {
  /** The runtime serving this node, reported by /health. */
  runtime?: string;
  /** Opens a peer stream from `GET /_kv/stream`, for adapters that upgrade from inside fetch. */
  acceptStream?: AcceptStream;
}

/** How often hints for replicas that are alive are retried. */
const HINT_SWEEP_MS = 5_000;

/** How often tombstones past their grace period are looked for. */
export function purgeIntervalMs(tombstoneGraceMs: number): number {
  return Math.min(60_000, Math.max(1_000, Math.floor(tombstoneGraceMs / 4)));
}

export function createNode(config: Config, env: Env, options: NodeOptions = {}): DhtNode {
  const { clock, log } = env;
  const now = () => clock.now();
  const id = config.advertise;
  const store = new Store(now);
  const hlc = new Hlc(id, now);
  const metrics = new Metrics();
  const info: NodeInfo = { id, runtime: options.runtime ?? "unknown", version: VERSION, startedAt: now() };

  const requests = metrics.counter("dht_http_requests_total", "HTTP requests answered, by route and status", ["method", "route", "status"]);
  const latency = metrics.histogram("dht_http_request_duration_seconds", "Time to answer an HTTP request", ["route"], latencyBuckets);
  const purged = metrics.counter("dht_tombstones_purged_total", "Tombstones removed after their grace period");
  metrics.gauge("dht_keys", "Keys holding a value on this replica", () => store.stats().liveKeys);
  metrics.gauge("dht_tombstones", "Tombstones held on this replica", () => store.stats().tombstones);
  metrics.gauge("dht_stored_bytes", "Bytes of keys and values held on this replica", () => store.stats().bytes);

  const swim = new Swim(id, config, env, metrics);
  const ring = new Ring();
  const follow = followMembership(ring, config.vnodes);
  swim.onChange((member, previous) => {
    follow(member.id, member.state);
    if (previous === undefined || isGone(previous) !== isGone(member.state)) syncer.ringChanged();
  });
  metrics.gauge("dht_ring_members", "Members on this node's ring", () => ring.size);

  const replica = localReplica(store, hlc, () => syncer.leaving);
  const hints = new HintStore();
  const syncer = new Syncer({ self: id, store, ring, replica, env, config, metrics });
  // What the replication path looks like from here: how full batches are (the lever on
  // per-frame cost) and how long a peer takes to answer one.
  const batchMessages = metrics.histogram("dht_replica_batch_messages", "Replica messages per batch sent to a peer", [], BATCH_SIZE_BUCKETS).labels([]);
  const batchSeconds = metrics.histogram("dht_replica_batch_seconds", "Round trip of a batch of replica messages to a peer", [], latencyBuckets).labels([]);
  const batches = { sent: (n: number) => batchMessages.observe(n), answered: (s: number) => batchSeconds.observe(s) };
  const coordinator = quorumCoordinator({ self: id, ring, replica, hlc, env, config, hints, batches });
  const hintsReplayed = metrics.counter("dht_hints_replayed_total", "Missed writes delivered to a replica later (hinted handoff)");
  metrics.gauge("dht_hints", "Missed writes waiting for their replica", () => hints.size);
  metrics.gauge("dht_hints_bytes", "Bytes of missed writes waiting for their replica", () => hints.bytes);
  metrics.gauge("dht_hints_dropped", "Hints dropped because the hint store was full", () => hints.dropped);
  const replay = (peer: string) =>
    void coordinator.replayHints(peer).then((n) => {
      if (n > 0) {
        hintsReplayed.inc([], n);
        log.info("hints replayed", { peer, count: n });
      }
    });
  // A replica that comes back gets its hints at once; one that never looked gone (a few
  // timeouts) gets them on the next sweep.
  swim.onChange((member, previous) => {
    if (member.state === "alive" && previous !== undefined && previous !== "alive") replay(member.id);
    // A member that left handed its data over; if it ever rejoins, anti-entropy fills it.
    if (member.state === "left") hints.take(member.id);
  });

  const router: RouterType = Router();
  addKvRoutes(router, { coordinator, maxValueBytes: config.maxValueBytes });
  const replicaAnswers = replicaMessages(replica, config.maxValueBytes);
  addReplicaRoutes(router, replicaAnswers, config.maxValueBytes, options.acceptStream);
  addClusterRoutes(router, { info, store, swim, ring, metrics, now });
  addSwimRoutes(router, swim);
  addSyncRoutes(router, {
    id,
    env,
    peers: () => swim.members().filter((m) => m.id !== id && m.state === "alive").map((m) => m.id),
    syncer,
    store,
    ring,
    maxValueBytes: config.maxValueBytes,
  });
  addRingRoutes(router, { ring, replicas: config.replicas, vnodes: config.vnodes });
  router.all("*", (request: Request) => {
    throw new NotFoundError(`no route for ${request.method} ${new URL(request.url).pathname}`);
  });

  const frames = metrics.counter("dht_stream_frames_total", "Peer stream requests answered, by route and status", ["route", "status"]);
  const answerFrame = streamResponder({ [BATCH_PATH]: (body) => replicaAnswers.answerBatch(body) }, (route, status) => frames.inc([route, String(status)]));

  async function fetch(request: Request): Promise<Response> {
    const started = clock.monotonicMs();
    let response: Response;
    try {
      response = await router.fetch(request);
    } catch (err) {
      response = errorResponse(err);
      // Only the unexpected is an error worth a line each; a 503 (too few replicas) is an
      // expected answer under failure or overload, counted in dht_http_requests_total.
      if (response.status === 500) log.error("request failed", { method: request.method, url: request.url, error: String(err) });
    }
    const route = (request as Request & { route?: string }).route ?? "unmatched";
    const series = routeSeries(route);
    series.latency.observe((clock.monotonicMs() - started) / 1000);
    series.answered(request.method, response.status).value++;
    return response;
  }

  // A request's metrics series are found through maps keyed by the route pattern (the same
  // string every time), the method and the numeric status, not by label text built per
  // request: that cost a lone Deno node ~5% of its GET throughput.
  const seriesByRoute = new Map<string, { latency: HistogramSeries; answered(method: string, status: number): CounterSeries }>();
  function routeSeries(route: string) {
    let series = seriesByRoute.get(route);
    if (!series) {
      const byMethod = new Map<string, Map<number, CounterSeries>>();
      series = {
        latency: latency.labels([route]),
        answered(method, status) {
          let byStatus = byMethod.get(method);
          if (!byStatus) byMethod.set(method, (byStatus = new Map()));
          let counter = byStatus.get(status);
          if (!counter) byStatus.set(status, (counter = requests.labels([method, route, String(status)])));
          return counter;
        },
      };
      seriesByRoute.set(route, series);
    }
    return series;
  }

  let hintTimer: TimerHandle | undefined;
  function scheduleHintSweep(): void {
    hintTimer = clock.setTimeout(() => {
      const alive = new Set(swim.members().filter((m) => m.state === "alive").map((m) => m.id));
      for (const peer of hints.peers()) if (alive.has(peer)) replay(peer);
      if (!stopped) scheduleHintSweep();
    }, HINT_SWEEP_MS);
  }

  let purgeTimer: TimerHandle | undefined;
  let stopped = false;
  function schedulePurge(): void {
    purgeTimer = clock.setTimeout(() => {
      const n = store.purgeTombstones(config.tombstoneGraceMs);
      if (n > 0) {
        purged.inc([], n);
        log.debug("tombstones purged", { count: n });
      }
      if (!stopped) schedulePurge();
    }, purgeIntervalMs(config.tombstoneGraceMs));
  }

  async function stop(): Promise<void> {
    if (stopped) return;
    stopped = true;
    swim.stop();
    syncer.stop();
    if (purgeTimer !== undefined) clock.clearTimeout(purgeTimer);
    if (hintTimer !== undefined) clock.clearTimeout(hintTimer);
    await env.transport.close();
  }

  return {
    id,
    store,
    swim,
    ring,
    syncer,
    metrics,
    fetch,
    answerFrame,
    start() {
      follow(id, "alive");
      swim.start();
      schedulePurge();
      scheduleHintSweep();
      syncer.start();
    },
    async leave() {
      if (stopped) return;
      // Still a member while handing off, so reads and writes through others go on working.
      log.info("handing off data before leaving", { keys: store.size });
      const { handedOff, remaining } = await syncer.leave(config.leaveTimeoutMs);
      if (handedOff) log.info("data handed off", {});
      else log.warn("leaving with data not confirmed by its new owners", { keys: remaining });
      await swim.leave();
      await stop();
    },
    stop,
  };
}
