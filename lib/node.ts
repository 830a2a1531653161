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
import { type Placer, quorumCoordinator } from "./replication/coordinator.ts";
import { HintStore } from "./replication/hints.ts";
import { localReplica } from "./replication/replica.ts";
import type { Ring } from "./ring/ring.ts";
import { TopologyDriver } from "./topology/driver.ts";
import { topologyPlacer } from "./topology/placer.ts";
import { founding, type MemberRef, NO_RING } from "./topology/state.ts";
import { Topology } from "./topology/topology.ts";
import { addTopologyRoutes } from "./http/topology_routes.ts";
import { Store } from "./store/store.ts";
import { addSyncRoutes } from "./http/sync_routes.ts";
import { Syncer } from "./sync/syncer.ts";
import { Hlc } from "./store/version.ts";
import { NodeState } from "./node_state.ts";
import { streamResponder, type StreamResponder } from "./stream/responder.ts";
import { BATCH_PATH } from "./replication/messages.ts";

export const VERSION = "0.1.0";

export interface DhtNode {
  readonly id: string;
  readonly store: Store;
  readonly swim: Swim;
  /** The owners' ring of the latest epoch this node knows (the old owners' during a transition). */
  readonly ring: Ring;
  readonly topology: Topology;
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
  /** This process's nonce (drawn at random when not given): a restart is a new member. */
  nonce?: string;
  /**
   * Where the coordinator places keys; the agreed ring unless given. Tests give another to
   * show what the agreed ring prevents (a ring that follows liveness splits the brain).
   */
  placer?: (parts: { topology: Topology; swim: Swim; config: Config }) => Placer;
}

/** A fresh process nonce: 12 hex digits from the Web Crypto API. */
export function randomNonce(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(6));
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
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

  const self: MemberRef = { id, nonce: options.nonce ?? randomNonce() };
  const founder = config.introducers.filter((a) => a !== id).length === 0;
  const topology = new Topology({ self, initial: founder ? founding(self) : NO_RING, config, env });
  const swim = new Swim(id, config, env, metrics, {
    epoch: () => topology.epoch,
    heardEpoch: (peer, epoch) => topology.heard(epoch, peer),
  });
  const driver = new TopologyDriver({ topology, members: () => swim.members(), introducers: config.introducers, config, env });
  metrics.gauge("dht_ring_members", "Members on this node's ring", () => topology.layout.current.size);
  metrics.gauge("dht_ring_epoch", "The latest ring epoch this node knows", () => topology.epoch);

  const state = new NodeState();
  const replica = localReplica(store, hlc, () => state.leaving, (epoch) => topology.admit(epoch));
  const hints = new HintStore();
  const syncer = new Syncer({ self: id, store, topology, replica, state, env, config, metrics });
  topology.onChange(() => syncer.ringChanged());
  // What the replication path looks like from here: how full batches are (the lever on
  // per-frame cost) and how long a peer takes to answer one.
  const batchMessages = metrics.histogram("dht_replica_batch_messages", "Replica messages per batch sent to a peer", [], BATCH_SIZE_BUCKETS).labels([]);
  const batchSeconds = metrics.histogram("dht_replica_batch_seconds", "Round trip of a batch of replica messages to a peer", [], latencyBuckets).labels([]);
  const batches = { sent: (n: number) => batchMessages.observe(n), answered: (s: number) => batchSeconds.observe(s) };
  const coordinator = quorumCoordinator({ self: id, placer: options.placer?.({ topology, swim, config }) ?? topologyPlacer(topology), replica, hlc, env, config, hints, batches });
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
  addClusterRoutes(router, { info, store, swim, topology, metrics, now });
  addSwimRoutes(router, swim);
  addTopologyRoutes(router, topology);
  addSyncRoutes(router, {
    id,
    env,
    peers: () => swim.members().filter((m) => m.id !== id && m.state === "alive").map((m) => m.id),
    syncer,
    store,
    topology,
    maxValueBytes: config.maxValueBytes,
  });
  addRingRoutes(router, { topology, replicas: config.replicas, vnodes: config.vnodes });
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

  /**
   * Says it is leaving and waits until an epoch without this node is decided; gives up at
   * the deadline, or at once when every other member is leaving or gone too (nobody to
   * take over).
   */
  async function leaveRing(deadline: number): Promise<boolean> {
    topology.startLeaving();
    for (;;) {
      if (!topology.isMember) return true;
      const gone = new Map(swim.members().map((m) => [m.id, isGone(m.state)]));
      const leaving = topology.leavers();
      const others = topology.layout.current.members().filter((m) => m !== id);
      if (others.every((m) => leaving.has(m) || gone.get(m) !== false)) return false;
      if (clock.monotonicMs() >= deadline) return false;
      await new Promise<void>((resolve) => clock.setTimeout(resolve, 100));
    }
  }

  async function stop(): Promise<void> {
    if (stopped) return;
    stopped = true;
    swim.stop();
    driver.stop();
    syncer.stop();
    if (purgeTimer !== undefined) clock.clearTimeout(purgeTimer);
    if (hintTimer !== undefined) clock.clearTimeout(hintTimer);
    await env.transport.close();
  }

  return {
    id,
    store,
    swim,
    get ring() {
      return topology.layout.current;
    },
    topology,
    syncer,
    metrics,
    fetch,
    answerFrame,
    start() {
      swim.start();
      driver.start();
      schedulePurge();
      scheduleHintSweep();
      syncer.start();
    },
    async leave() {
      if (stopped) return;
      // Still a member until an epoch without it is decided, so reads and writes go on
      // working; then the keys it holds go to their owners.
      log.info("leaving the ring before handing off", { keys: store.size });
      const deadline = clock.monotonicMs() + config.leaveTimeoutMs;
      const out = await leaveRing(deadline);
      if (!out) log.warn("leaving while still a member of the ring", { epoch: topology.epoch });
      const { handedOff, remaining } = await syncer.leave(Math.max(0, deadline - clock.monotonicMs()));
      if (handedOff) log.info("data handed off", {});
      else log.warn("leaving with data not confirmed by its new owners", { keys: remaining });
      await swim.leave();
      await stop();
    },
    stop,
  };
}
