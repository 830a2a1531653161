/**
 * Stabilisation's routes: the internal `POST /_kv/digest`, `/_kv/offer` and `/_kv/push`
 * (msgpack in and out), and `GET /cluster/sync`, this node's view of rebalancing for
 * operators.
 */
import type { RouterType } from "itty-router";
import type { Ring } from "../ring/ring.ts";
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
  syncer: Syncer;
  store: Store;
  ring: Ring;
  maxValueBytes: number;
}

export function addSyncRoutes(router: RouterType, { id, syncer, store, ring, maxValueBytes }: SyncRouteOptions): void {
  router
    .post("/_kv/digest", async (request: Request) => {
      const m = decodeDigestRequest(await readBodyLimited(request, DIGEST_BYTES));
      return msgpackResponse(encodeDigestReply(await syncer.digest(m.from, m.buckets)));
    })
    .post("/_kv/offer", async (request: Request) => {
      const m = decodeOfferRequest(await readBodyLimited(request, OFFER_BYTES));
      return msgpackResponse(encodeOfferReply(syncer.offer(m.keys)));
    })
    .post("/_kv/push", async (request: Request) => {
      const limit = Math.max(256 * 1024, maxValueBytes) + PUSH_OVERHEAD_BYTES;
      const m = decodePushRequest(await readBodyLimited(request, limit));
      return msgpackResponse(encodePushReply(syncer.push(m.reason, m.entries)));
    })
    .get("/cluster/sync", () => jsonResponse(200, { id, ringChecksum: ring.checksum(), ...store.stats(), ...syncer.status() }));
}
