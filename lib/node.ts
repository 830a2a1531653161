/**
 * A node: `createNode(config, env)` wires the parts and returns `fetch(Request) → Response`,
 * the node's entire HTTP surface, plus its lifecycle. Adapters serve that `fetch`; tests
 * and the simulator call it directly. Nothing here does work of its own: each part's
 * behaviour, metrics and timers live with the part.
 */
import type { Config } from "./config.ts";
import type { Env, PeerReply } from "./env.ts";
import type { NodeInfo } from "./http/cluster_routes.ts";
import { admitted } from "./http/admission.ts";
import { instrumentedFetch } from "./http/instrumented.ts";
import type { AcceptStream } from "./http/peer_routes.ts";
import { nodeRouter } from "./http/router.ts";
import { syncStatus } from "./http/sync_routes.ts";
import { leaveGracefully } from "./leave.ts";
import { recordRingChange } from "./explain/events.ts";
import { Maintenance } from "./maintenance.ts";
import { Swim } from "./membership/swim.ts";
import { Metrics } from "./metrics.ts";
import { casObserver, nodeGauges, peerRefusals, replicationObservers } from "./node_metrics.ts";
import { CasAcceptor } from "./cas/acceptor.ts";
import { answerList } from "./listing/answer.ts";
import { lister, type ListingOptions } from "./listing/list.ts";
import { decodeListRequest, encodeListReply, type ListRequest } from "./wire/listing.ts";
import { NodeState } from "./node_state.ts";
import { peerTable } from "./peer/table.ts";
import { type CasFaults, type Coordinator, type Placer, quorumCoordinator } from "./replication/coordinator.ts";
import { HintStore } from "./replication/hints.ts";
import { localReplica } from "./replication/replica.ts";
import { replicaMessages } from "./replication/replica_messages.ts";
import type { Ring } from "./ring/ring.ts";
import { Store } from "./store/store.ts";
import { Hlc } from "./store/version.ts";
import { envelopeTransport, type KeyringHolder } from "./peer/envelope.ts";
import type { Keyring } from "./peer/keyring.ts";
import { frameCounter, streamResponder, type StreamResponder } from "./stream/responder.ts";
import { Syncer } from "./sync/syncer.ts";
import { type DriverOptions, TopologyDriver } from "./topology/driver.ts";
import { topologyPlacer } from "./topology/placer.ts";
import { founding, type MemberRef, NO_RING } from "./topology/state.ts";
import { spreadFanout, Topology } from "./topology/topology.ts";

export { purgeIntervalMs } from "./maintenance.ts";

export const VERSION = "0.1.0";

export interface DhtNode {
  readonly id: string;
  readonly store: Store;
  readonly swim: Swim;
  /** The owners' ring of the latest epoch this node knows (the old owners' during a transition). */
  readonly ring: Ring;
  readonly topology: Topology;
  /** The loop that moves the ring forward (what it waits for: `reason`). */
  readonly driver: TopologyDriver;
  readonly syncer: Syncer;
  readonly metrics: Metrics;
  fetch(request: Request): Response | Promise<Response>;
  /** Answers one node-to-node message through the peer table (the simulator's network calls this). */
  answerPeer(path: string, body: Uint8Array): Promise<PeerReply>;
  /** Answers a peer stream's request frame (lib/stream): adapters hand frames here. */
  answerFrame: StreamResponder;
  /** Starts background work: membership (joining through the introducers) and tombstone purging. */
  start(): void;
  /** Graceful leave: hand every key to its new owners (bounded by --leave-timeout-ms), announce `left`, stop. */
  leave(): Promise<void>;
  /** Seals what it sends, and opens what it receives, under `keyring` from now on (a rotation step); none: unsealed. */
  useKeyring(keyring?: Keyring): void;
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
  /** The ring's planner; plan.ts's unless given (tests give the fence over every range, to show what per-range steps prevent). */
  plan?: DriverOptions["plan"];
  /** Conditional writes; lib/cas's Paxos unless given (tests give a read-then-write, to show what consensus prevents). */
  conditional?: (coordinator: Coordinator) => Coordinator["conditional"];
  /** Faults for tests: proposers that never commit, and the controls that ignore accepted proposals. */
  casFaults?: CasFaults;
  /** The cluster keyring (DHT_CLUSTER_KEY, --cluster-key-file): every internal message sealed under it. Absent: unsealed. */
  keyring?: Keyring;
}

/** A fresh process nonce: 12 hex digits from the Web Crypto API. */
export function randomNonce(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(6));
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** The agreed ring, the membership that carries its epochs in every message, and the loop that moves the ring. */
function ringAndMembership(config: Config, env: Env, options: NodeOptions, metrics: Metrics) {
  const id = config.advertise;
  const self: MemberRef = { id, nonce: options.nonce ?? randomNonce() };
  const founder = config.introducers.filter((a) => a !== id).length === 0;
  const topology = new Topology({ self, initial: founder ? founding(self) : NO_RING, config, env });
  const swim = new Swim(id, config, env, metrics, { epoch: () => topology.epoch, heardEpoch: (peer, epoch) => topology.heard(epoch, peer) });
  const driver = new TopologyDriver({ topology, members: () => swim.members(), member: (id) => swim.member(id), introducers: config.introducers, config, env, plan: options.plan });
  swim.onChange(() => driver.wake());
  // Each epoch this node adopts, it passes on at once: the epidemic that spreads decisions.
  topology.onChange(() => topology.notify(swim.randomMembers(spreadFanout(swim.liveCount()), (m) => m.state === "alive")));
  return { topology, swim, driver };
}

/** Listings: the coordinator's pages, and this node's answer to another's (`/_kv/list`). */
function listingEnds(store: Store, acceptor: CasAcceptor, options: NodeOptions, gate: (epoch: number) => void, o: Omit<ListingOptions, "local">) {
  // Keys with a conditional write accepted but not stored are named beside the page (unless this is the control that ignores them).
  const unstored = options.casFaults?.readsIgnorePending ? () => [] : () => acceptor.unstored();
  const local = (request: ListRequest) => answerList(store, unstored, gate, request);
  return { list: lister({ ...o, local }), listing: (body: Uint8Array) => encodeListReply(local(decodeListRequest(body))) };
}

interface Parts {
  config: Config;
  env: Env;
  options: NodeOptions;
  metrics: Metrics;
  store: Store;
  hlc: Hlc;
  state: NodeState;
  topology: Topology;
  swim: Swim;
  gate: (epoch: number) => void;
}

/** A replica and its acceptor, the coordinator over them, and stabilisation, which moves what they hold. */
function replication({ config, env, options, metrics, store, hlc, state, topology, swim, gate }: Parts) {
  const id = config.advertise;
  const now = () => env.clock.now();
  const acceptor = new CasAcceptor(store, now, () => state.leaving, gate);
  const replica = localReplica(store, hlc, () => state.leaving, gate, acceptor);
  const hints = new HintStore();
  // What an old owner must settle before its keys move away: conditional writes it accepted but does not store (sync/stream.ts).
  const accepted = options.casFaults?.streamIgnoresPending ? undefined : { keys: () => acceptor.unstored().map(([key]) => key), finish: (key: string) => quorum.finishPending(key) };
  const syncer = new Syncer({ self: id, store, topology, replica, state, env, config, metrics, accepted, isAlive: (peer) => swim.member(peer)?.state === "alive" });
  const placer = options.placer?.({ topology, swim, config }) ?? topologyPlacer(topology, config, id);
  const quorum = quorumCoordinator({ self: id, placer, replica, acceptor, hlc, env, config, hints, batches: replicationObservers(metrics), cas: casObserver(metrics), casFaults: options.casFaults });
  const coordinator = options.conditional ? { ...quorum, conditional: options.conditional(quorum) } : quorum;
  return { acceptor, replica, hints, syncer, placer, coordinator };
}

/** The runtime's environment with every message it sends wrapped: the cluster name, and the seal of the keyring in force (peer/envelope.ts). */
function enveloped(runtimeEnv: Env, config: Config, keyring: Keyring | undefined): { env: Env; keys: KeyringHolder } {
  const keys: KeyringHolder = { keyring };
  return { env: { ...runtimeEnv, transport: envelopeTransport(runtimeEnv.transport, config.clusterName, keys) }, keys };
}

export function createNode(config: Config, runtimeEnv: Env, options: NodeOptions = {}): DhtNode {
  const { env, keys } = enveloped(runtimeEnv, config, options.keyring);
  const { clock } = env;
  const now = () => clock.now();
  const id = config.advertise;
  const metrics = new Metrics();
  const info: NodeInfo = { id, runtime: options.runtime ?? "unknown", version: VERSION, startedAt: now() };
  const state = new NodeState();

  // Data, and the agreed ring that says who holds it, carried by the membership.
  const store = new Store(now);
  const hlc = new Hlc(id, now);
  const { topology, swim, driver } = ringAndMembership(config, env, options, metrics);
  const aliveIds = () => new Set(swim.members().filter((m) => m.state === "alive").map((m) => m.id));

  // Replication and stabilisation.
  const gate = (epoch: number) => topology.admit(epoch);
  const { acceptor, replica, hints, syncer, placer, coordinator } = replication({ config, env, options, metrics, store, hlc, state, topology, swim, gate });
  topology.onChange(() => syncer.ringChanged());
  topology.onChange((next, previous) => recordRingChange(swim.events, next, previous));
  const maintenance = new Maintenance({ store, acceptor, hints, coordinator, alive: aliveIds, env, tombstoneGraceMs: config.tombstoneGraceMs, metrics });
  swim.onChange((member, previous) => maintenance.memberChanged(member, previous));
  nodeGauges(metrics, { store, topology, hints });

  // Node-to-node messages, one table for every carrier.
  const status = () => syncStatus({ id, runtime: info.runtime, topology, store, syncer, awareness: () => swim.awarenessScore, hints: () => hints.perPeer() });
  const { list, listing } = listingEnds(store, acceptor, options, gate, { self: id, placer, config, env, read: async (key) => await coordinator.get(key) });
  const refused = peerRefusals(env.log, metrics, config.clusterName);
  const peers = peerTable({ swim, topology, replica: replicaMessages(replica, acceptor), sync: syncer.receiver, syncStatus: status, listing, maxValueBytes: config.maxValueBytes, clusterName: config.clusterName, keys, refused });
  const answerFrame = streamResponder(peers, frameCounter(metrics));

  const router = nodeRouter({
    coordinator, list, peers, acceptStream: options.acceptStream, info, store, swim, topology, driver, metrics, now, config,
    sync: { env, peers: () => [...aliveIds()].filter((m) => m !== id), status },
    recover: { env, tokens: syncer.tokens },
  });

  let stopped = false;
  async function stop(): Promise<void> {
    if (stopped) return;
    stopped = true;
    swim.stop();
    driver.stop();
    syncer.stop();
    maintenance.stop();
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
    driver,
    syncer,
    metrics,
    fetch: admitted(instrumentedFetch(router, metrics, clock, env.log), config.maxClientRequests, metrics),
    answerPeer: (path, body) => peers.answer(path, body),
    answerFrame,
    start() {
      swim.start();
      driver.start();
      maintenance.start();
      syncer.start();
    },
    async leave() {
      if (stopped) return;
      await leaveGracefully({ swim, topology, syncer, env, leaveTimeoutMs: config.leaveTimeoutMs, keys: () => store.size });
      await stop();
    },
    useKeyring(keyring) {
      keys.keyring = keyring;
    },
    stop,
  };
}
