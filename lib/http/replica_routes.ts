/**
 * Replication's internal routes, msgpack in and out: `POST /_kv/put` and `POST /_kv/get`,
 * one message each, and `POST /_kv/batch`, several of either (replication/batcher.ts), each
 * answered with the status and body its own route would have given. A batch may also come
 * over a peer stream (lib/stream), which calls the same `answerBatch`.
 */
import type { RouterType } from "itty-router";
import { MAX_BATCH_MESSAGES } from "../replication/batcher.ts";
import { MessageError } from "../membership/messages.ts";
import {
  decodeBatch,
  decodeKvRequest,
  encodeBatchReplies,
  encodeGetReply,
  encodePutReply,
  MAX_KV_MESSAGE_BYTES,
} from "../replication/messages.ts";
import type { Replica } from "../replication/replica.ts";
import { STREAM_PATH } from "../stream/frames.ts";
import { readBodyLimited } from "./body.ts";
import { errorReply, jsonResponse, msgpackResponse, ValueTooLargeError } from "./errors.ts";

/** A batch holds at most 1 MiB of messages, or one larger message. */
const BATCH_OVERHEAD_BYTES = 1024 * 1024 + 64 * 1024;

const messageLimit = (maxValueBytes: number) => Math.min(MAX_KV_MESSAGE_BYTES, maxValueBytes + 64 * 1024);

/** The largest `/_kv/batch` body a node with this value limit accepts. */
export const batchBodyLimit = (maxValueBytes: number) => messageLimit(maxValueBytes) + BATCH_OVERHEAD_BYTES;

export interface ReplicaMessages {
  /** One message, as `/_kv/{kind}` answers it (kind: the route it came to, if any). */
  answer(bytes: Uint8Array, kind?: string): Uint8Array;
  /** A batch's body → its replies' body; throws (a 4xx) if the batch itself is unreadable. */
  answerBatch(bytes: Uint8Array): Uint8Array;
}

export function replicaMessages(replica: Replica, maxValueBytes: number): ReplicaMessages {
  const batchLimit = batchBodyLimit(maxValueBytes);
  function answer(bytes: Uint8Array, kind?: string): Uint8Array {
    const message = decodeKvRequest(bytes);
    if (kind !== undefined && message.type !== kind) throw new MessageError(`a ${message.type} message was sent to /_kv/${kind}`);
    return message.type === "put" ? encodePutReply(replica.put(message.key, message.entry, message.epoch)) : encodeGetReply(replica.get(message.key, message.epoch), message.have);
  }
  return {
    answer,
    answerBatch(bytes) {
      if (bytes.byteLength > batchLimit) throw new ValueTooLargeError(batchLimit);
      const replies = decodeBatch(bytes, MAX_BATCH_MESSAGES).map((m) => {
        try {
          return { status: 200, body: answer(m) };
        } catch (err) {
          return errorReply(err);
        }
      });
      return encodeBatchReplies(replies);
    },
  };
}

/** The adapter's WebSocket upgrade for a server that upgrades from its fetch handler (Deno). */
export type AcceptStream = (request: Request) => Response | undefined;

export function addReplicaRoutes(router: RouterType, messages: ReplicaMessages, maxValueBytes: number, acceptStream?: AcceptStream): void {
  const oneMessage = messageLimit(maxValueBytes);
  const batchLimit = batchBodyLimit(maxValueBytes);

  // Bun and Node take the upgrade before routing; Deno's adapter takes it here (lib/stream).
  router.get(STREAM_PATH, (request: Request) =>
    acceptStream?.(request) ?? jsonResponse(426, { error: "a peer stream is opened with a WebSocket upgrade" }, { upgrade: "websocket" }));

  router.post("/_kv/:kind", async (request: Request & { params: { kind: string } }) => {
    const { kind } = request.params;
    if (kind === "put" || kind === "get") return msgpackResponse(messages.answer(await readBodyLimited(request, oneMessage), kind));
    if (kind !== "batch") return undefined; // falls through to the other routes, or the 404
    return msgpackResponse(messages.answerBatch(await readBodyLimited(request, batchLimit)));
  });
}
