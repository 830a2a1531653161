/**
 * `GET /cluster/sync` for operators: this node's stabilisation, or with `?all` every live
 * member's, gathered through this one (each answers `POST /_kv/status`, lib/peer/table.ts).
 */
import type { RouterType } from "itty-router";
import { type Env, sendWithTimeout } from "../env.ts";
import type { Store } from "../store/store.ts";
import type { Syncer } from "../sync/syncer.ts";
import type { Topology } from "../topology/topology.ts";
import { msgpackDecoder } from "../wire/msgpack.ts";
import { jsonResponse } from "./errors.ts";
import { ringSummary } from "./ring_routes.ts";

interface SyncRouteOptions {
  env: Pick<Env, "clock" | "transport">;
  /** The other members to ask for `?all`. */
  peers: () => string[];
  status: () => SyncStatus;
}

export type SyncStatus = ReturnType<typeof syncStatus>;

export interface StatusParts {
  id: string;
  runtime: string;
  topology: Topology;
  store: Store;
  syncer: Syncer;
  /** Lifeguard's local health score of this node. */
  awareness: () => number;
  /** Hints waiting here, per replica. */
  hints: () => Record<string, number>;
}

/** What one node says about itself and its stabilisation, here and to a member gathering `?all`. */
export function syncStatus({ id, runtime, topology, store, syncer, awareness, hints }: StatusParts) {
  return {
    id, runtime, awareness: awareness(), ringChecksum: ringSummary(topology).ringChecksum, epoch: topology.epoch,
    // Whether this process is the member the ring names at this address (a restarted one is not, until it replaces the old).
    member: topology.isOwner,
    ...store.stats(), hints: hints(), ...syncer.status(),
    // Per peer, [peer, ms]: everything that peer held before this time (this node's clock) is here too.
    syncedFrom: Object.entries(syncer.tokens.syncedFrom()),
  };
}

const decodeStatus = msgpackDecoder({ maxStrLength: 64 * 1024, maxArrayLength: 10_000, maxMapLength: 64, maxBinLength: 0, maxExtLength: 0 });

/** How long `?all` waits for each member. */
export const STATUS_TIMEOUT_MS = 2_000;
/** Members `?all` asks at once: a 100-member cluster is asked in a few waves, not all at once. */
export const STATUS_FANOUT = 16;

/** A member's own status (`POST /_kv/status`), or `{id, error}` saying why it gave none. */
export async function peerStatus(env: SyncRouteOptions["env"], peer: string): Promise<Record<string, unknown>> {
  try {
    const reply = await sendWithTimeout(env, peer, "/_kv/status", new Uint8Array(0), STATUS_TIMEOUT_MS);
    if (reply.status !== 200) throw new Error(`answered ${reply.status}`);
    return decodeStatus(reply.body) as Record<string, unknown>;
  } catch (err) {
    return { id: peer, error: String((err as Error).message ?? err) };
  }
}

export function addSyncRoutes(router: RouterType, { env, peers, status }: SyncRouteOptions): void {
  const ask = (peer: string) => peerStatus(env, peer);

  /** Every live member's status, this node's first; a member that does not answer says why. */
  async function everyone(): Promise<unknown[]> {
    const others = peers();
    const answers: unknown[] = [];
    for (let i = 0; i < others.length; i += STATUS_FANOUT) answers.push(...await Promise.all(others.slice(i, i + STATUS_FANOUT).map(ask)));
    return [status(), ...answers];
  }

  router.get("/cluster/sync", async (request: Request) => {
    if (!new URL(request.url).searchParams.has("all")) return jsonResponse(200, status());
    const nodes = (await everyone()) as Array<{ settled?: boolean; ringChecksum?: string; liveKeys?: number }>;
    return jsonResponse(200, {
      // Settled: every member answered, on one ring, with nothing left to move.
      settled: nodes.every((n) => n.settled === true) && new Set(nodes.map((n) => n.ringChecksum)).size === 1,
      liveKeys: nodes.reduce((sum, n) => sum + (n.liveKeys ?? 0), 0),
      nodes,
    });
  });
}
