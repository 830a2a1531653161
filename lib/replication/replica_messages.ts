/**
 * The replica's end of replica messages: a batch (`/_kv/batch`) of puts and gets, each
 * answered with the status and body it would get alone, so one refused message (a stale
 * epoch, a node leaving) does not fail its neighbours. The batch's size limit is the peer
 * table's, enforced by every carrier before this is called.
 */
import { errorReply } from "../http/errors.ts";
import { decodeBatch, decodeKvRequest, encodeBatchReplies, encodeGetReply, encodePutReply } from "../wire/replica.ts";
import { MAX_BATCH_MESSAGES } from "./batcher.ts";
import type { Replica } from "./replica.ts";

export interface ReplicaMessages {
  /** A batch's body → its replies' body; throws (a 4xx) if the batch itself is unreadable. */
  answerBatch(bytes: Uint8Array): Uint8Array;
}

export function replicaMessages(replica: Replica): ReplicaMessages {
  function answer(bytes: Uint8Array): Uint8Array {
    const message = decodeKvRequest(bytes);
    return message.type === "put" ? encodePutReply(replica.put(message.key, message.entry, message.epoch)) : encodeGetReply(replica.get(message.key, message.epoch), message.have);
  }
  return {
    answerBatch(bytes) {
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
