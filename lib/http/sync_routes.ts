/**
 * Stabilisation's routes: the internal `POST /_kv/digest`, `/_kv/offer`, `/_kv/push` and
 * `/_kv/status` (msgpack in and out), and `GET /cluster/sync` for operators: this node's
 * rebalancing, or with `?all` every live member's, gathered through this one.
 */
import { encodeMsgpack as encode, msgpackDecoder } from "../msgpack.ts";
import type { RouterType } from "itty-router";
import { type Env, sendWithTimeout } from "../env.ts";
import type { Topology } from "../topology/topology.ts";
import { ringSummary } from "./ring_routes.ts";
import type { Store } from "../store/store.ts";
import {
  decodeDigestRequest,
  decodeOfferRequest,
  decodePushRequest,
  encodeDigestReply,
  encodeOfferReply,
  encodePushReply,
} from "../sync/messages.ts";
import type { Syncer } from "../sync/syncer.ts";
import { readBodyLimited } from "./body.ts";
import { jsonResponse, msgpackResponse } from "./errors.ts";

const DIGEST_BYTES = 64 * 1024;
const OFFER_BYTES = 16 * 1024 * 1024;
const PUSH_OVERHEAD_BYTES = 1024 * 1024;

interface SyncRouteOptions {
  id: string;
  env: Pick<Env, "clock" | "transport">;
  /** The other members to ask for `?all`. */
  peers: () => string[];
  syncer: Syncer;
  store: Store;
  topology: Topology;
  maxValueBytes: number;
}

const decodeStatus = msgpackDecoder();

/** How long `?all` waits for each member. */
const STATUS_TIMEOUT_MS = 2_000;

export function addSyncRoutes(router: RouterType, { id, env, peers, syncer, store, topology, maxValueBytes }: SyncRouteOptions): void {
  const status = () => ({ id, ringChecksum: ringSummary(topology).ringChecksum, epoch: topology.epoch, ...store.stats(), ...syncer.status() });

  /** Every live member's status, this node's first; a member that does not answer says why. */
  async function everyone(): Promise<unknown[]> {
    const others = await Promise.all(
      peers().map(async (peer) => {
        try {
          const reply = await sendWithTimeout(env, peer, "/_kv/status", new Uint8Array(0), STATUS_TIMEOUT_MS);
          if (reply.status !== 200) throw new Error(`answered ${reply.status}`);
          return decodeStatus(reply.body);
        } catch (err) {
          return { id: peer, error: String((err as Error).message ?? err) };
        }
      }),
    );
    return [status(), ...others];
  }

  router
    .post("/_kv/status", () => msgpackResponse(encode(status())))
    .post("/_kv/digest", async (request: Request) => {
      const m = decodeDigestRequest(await readBodyLimited(request, DIGEST_BYTES));
      return msgpackResponse(encodeDigestReply(await syncer.receiver.digest(m.from, m.buckets)));
    })
    .post("/_kv/offer", async (request: Request) => {
      const m = decodeOfferRequest(await readBodyLimited(request, OFFER_BYTES));
      return msgpackResponse(encodeOfferReply(syncer.receiver.offer(m.from, m.keys)));
    })
    .post("/_kv/push", async (request: Request) => {
      const limit = Math.max(256 * 1024, maxValueBytes) + PUSH_OVERHEAD_BYTES;
      const m = decodePushRequest(await readBodyLimited(request, limit));
      return msgpackResponse(encodePushReply(syncer.receiver.push(m.reason, m.entries)));
    })
    .get("/cluster/sync", async (request: Request) => {
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
