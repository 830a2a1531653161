/**
 * Replication's internal routes, msgpack in and out: `POST /_kv/put` and `POST /_kv/get`,
 * one message each, and `POST /_kv/batch`, several of either (replication/batcher.ts), each
 * answered with the status and body its own route would have given.
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
import { readBodyLimited } from "./body.ts";
import { errorResponse, msgpackResponse } from "./errors.ts";

/** A batch holds at most 1 MiB of messages, or one larger message. */
const BATCH_OVERHEAD_BYTES = 1024 * 1024 + 64 * 1024;

export function addReplicaRoutes(router: RouterType, replica: Replica, maxValueBytes: number): void {
  const messageLimit = Math.min(MAX_KV_MESSAGE_BYTES, maxValueBytes + 64 * 1024);

  /** One message, as `/_kv/{kind}` answers it. */
  function answer(bytes: Uint8Array, kind?: string): Uint8Array {
    const message = decodeKvRequest(bytes);
    if (kind !== undefined && message.type !== kind) throw new MessageError(`a ${message.type} message was sent to /_kv/${kind}`);
    return message.type === "put" ? encodePutReply(replica.put(message.key, message.entry)) : encodeGetReply(replica.get(message.key));
  }

  router.post("/_kv/:kind", async (request: Request & { params: { kind: string } }) => {
    const { kind } = request.params;
    if (kind === "put" || kind === "get") return msgpackResponse(answer(await readBodyLimited(request, messageLimit), kind));
    if (kind !== "batch") return undefined; // falls through to the other routes, or the 404
    const messages = decodeBatch(await readBodyLimited(request, messageLimit + BATCH_OVERHEAD_BYTES), MAX_BATCH_MESSAGES);
    const replies = await Promise.all(
      messages.map(async (m) => {
        try {
          return { status: 200, body: answer(m) };
        } catch (err) {
          const res = errorResponse(err);
          return { status: res.status, body: new Uint8Array(await res.arrayBuffer()) };
        }
      }),
    );
    return msgpackResponse(encodeBatchReplies(replies));
  });
}
