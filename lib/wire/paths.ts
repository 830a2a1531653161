/**
 * Every node-to-node message's path and the largest body it may carry: the closed set a
 * node answers (lib/peer/table.ts builds the handlers), whether the message comes as an
 * HTTP POST or on a peer stream.
 */
import { MAX_MESSAGE_BYTES as MAX_SWIM_BYTES } from "./swim.ts";
import { MAX_TOPOLOGY_MESSAGE_BYTES } from "./ring.ts";
import { MAX_KV_MESSAGE_BYTES } from "./replica.ts";

export const SWIM_KINDS = ["ping", "ping-req", "sync"] as const;
export const RING_KINDS = ["prepare", "accept", "status", "hello", "get", "notice"] as const;
export const SYNC_KINDS = ["digest", "offer", "push", "status"] as const;

/** Replica messages, several at a time (replication/batcher.ts). */
export const BATCH_PATH = "/_kv/batch";
/** One page of a listing from one node (lib/listing). */
export const LIST_PATH = "/_kv/list";
/** The WebSocket upgrade that opens a peer stream (lib/stream). */
export const STREAM_PATH = "/_kv/stream";

export type PeerPath =
  | `/_swim/${typeof SWIM_KINDS[number]}`
  | `/_ring/${typeof RING_KINDS[number]}`
  | `/_kv/${typeof SYNC_KINDS[number]}`
  | typeof BATCH_PATH
  | typeof LIST_PATH;

/** A batch holds at most 1 MiB of messages, or one larger message. */
const BATCH_OVERHEAD_BYTES = 1024 * 1024 + 64 * 1024;
const DIGEST_BYTES = 64 * 1024;
const OFFER_BYTES = 16 * 1024 * 1024;
const PUSH_OVERHEAD_BYTES = 1024 * 1024;
/** A push carries 256 KiB of values, or one larger value. */
const PUSH_VALUES_BYTES = 256 * 1024;

/** One replica message: a value of up to --max-value-bytes, its key and its fields. */
export const replicaMessageLimit = (maxValueBytes: number) => Math.min(MAX_KV_MESSAGE_BYTES, maxValueBytes + 64 * 1024);

/** The largest `/_kv/batch` body a node with this value limit accepts. */
export const batchBodyLimit = (maxValueBytes: number) => replicaMessageLimit(maxValueBytes) + BATCH_OVERHEAD_BYTES;

/** The largest body each path accepts, for a node with this value limit. */
export function bodyLimits(maxValueBytes: number): Record<PeerPath, number> {
  const limits = {} as Record<PeerPath, number>;
  for (const kind of SWIM_KINDS) limits[`/_swim/${kind}`] = MAX_SWIM_BYTES;
  for (const kind of RING_KINDS) limits[`/_ring/${kind}`] = MAX_TOPOLOGY_MESSAGE_BYTES;
  limits["/_kv/digest"] = DIGEST_BYTES;
  limits["/_kv/offer"] = OFFER_BYTES;
  limits["/_kv/push"] = Math.max(PUSH_VALUES_BYTES, maxValueBytes) + PUSH_OVERHEAD_BYTES;
  limits["/_kv/status"] = DIGEST_BYTES;
  limits[LIST_PATH] = DIGEST_BYTES;
  limits[BATCH_PATH] = batchBodyLimit(maxValueBytes);
  return limits;
}
