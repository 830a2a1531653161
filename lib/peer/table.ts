/**
 * The one seam between the network and the protocols: a table from internal path to
 * handler (`bytes → bytes`), built once per node. HTTP routes (lib/http/peer_routes.ts),
 * the peer-stream responder (lib/stream/responder.ts) and the simulator's network all
 * dispatch through it, so every carrier runs the same checks, limits and code.
 */
import type { PeerReply } from "../env.ts";
import { envelopeHandler, type KeyringHolder, type Refusals } from "./envelope.ts";
import { BodyTooLargeError, refusalReply, UnknownPathError } from "./refusal.ts";
import type { Swim } from "../membership/swim.ts";
import type { ReplicaMessages } from "../replication/replica_messages.ts";
import type { SyncReceiver } from "../sync/receiver.ts";
import type { Topology } from "../topology/topology.ts";
import { encodeMsgpack } from "../wire/msgpack.ts";
import { BATCH_PATH, bodyLimits, LIST_PATH, type PeerPath, RING_KINDS, SWIM_KINDS } from "../wire/paths.ts";
import {
  decodeDigestRequest,
  decodeOfferRequest,
  decodePushRequest,
  encodeDigestReply,
  encodeOfferReply,
  encodePushReply,
} from "../wire/sync.ts";

export interface PeerHandler {
  /** The largest body this path accepts; a larger one is refused before it is read. */
  maxBytes: number;
  /** The body → the reply body; throws a named error (peer/refusal.ts) to refuse. */
  handle(body: Uint8Array): Uint8Array | Promise<Uint8Array>;
}

export class PeerTable {
  readonly #handlers: ReadonlyMap<string, PeerHandler>;

  constructor(handlers: Partial<Record<PeerPath, PeerHandler>>) {
    this.#handlers = new Map(Object.entries(handlers) as Array<[string, PeerHandler]>);
  }

  get(path: string): PeerHandler | undefined {
    return this.#handlers.get(path);
  }

  paths(): string[] {
    return [...this.#handlers.keys()];
  }

  /** Answers one message: the handler's reply, or an error's status and JSON body. */
  async answer(path: string, body: Uint8Array): Promise<PeerReply> {
    const handler = this.#handlers.get(path);
    if (!handler) return refusalReply(new UnknownPathError(path, this.paths()));
    try {
      if (body.byteLength > handler.maxBytes) throw new BodyTooLargeError(handler.maxBytes);
      return { status: 200, body: await handler.handle(body) };
    } catch (err) {
      return refusalReply(err);
    }
  }
}

export interface PeerParts {
  swim: Swim;
  topology: Topology;
  replica: ReplicaMessages;
  sync: SyncReceiver;
  /** This node's stabilisation status, for a member gathering `/cluster/sync?all`. */
  syncStatus(): unknown;
  /** This node's page of a listing (lib/listing/answer.ts). */
  listing(body: Uint8Array): Uint8Array;
  maxValueBytes: number;
  /** This node's `--cluster-name` and keyring, which every message must carry and open under (envelope.ts); and who is told of one that does not. */
  clusterName: string;
  keys: KeyringHolder;
  refused: Refusals;
}

/** Every internal path this node answers, and what answers it. */
export function peerTable({ swim, topology, replica, sync, syncStatus, listing, maxValueBytes, clusterName, keys, refused }: PeerParts): PeerTable {
  const limits = bodyLimits(maxValueBytes);
  const entry = (path: PeerPath, handle: PeerHandler["handle"]): [PeerPath, PeerHandler] => [path, envelopeHandler({ maxBytes: limits[path], handle }, clusterName, path, keys, refused)];
  // tests/unit/peer_table.test.ts checks that every path of the closed set has a handler.
  const handlers: Record<PeerPath, PeerHandler> = Object.fromEntries([
    ...SWIM_KINDS.map((kind) => entry(`/_swim/${kind}`, (body) => swim.handle(kind, body))),
    ...RING_KINDS.map((kind) => entry(`/_ring/${kind}`, (body) => topology.handle(kind, body))),
    entry(BATCH_PATH, (body) => replica.answerBatch(body)),
    entry("/_kv/digest", async (body) => {
      const m = decodeDigestRequest(body);
      return encodeDigestReply(await sync.digest(m.from, m.buckets, m.synced));
    }),
    entry("/_kv/offer", (body) => {
      const m = decodeOfferRequest(body);
      return encodeOfferReply(sync.offer(m.from, m.keys));
    }),
    entry("/_kv/push", (body) => {
      const m = decodePushRequest(body);
      return encodePushReply(sync.push(m.reason, m.entries));
    }),
    entry("/_kv/status", () => encodeMsgpack(syncStatus())),
    entry(LIST_PATH, listing),
  ]) as Record<PeerPath, PeerHandler>;
  return new PeerTable(handlers);
}
