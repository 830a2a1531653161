/**
 * The replica's end of replica messages: a batch (`/_kv/batch`) of puts (plain, or only
 * above what it holds), gets and conditional writes' prepares and accepts, each answered
 * with the status and body it would get alone, so one refused message (a stale epoch, a
 * node leaving) does not fail its neighbours. The batch's size limit is the peer
 * table's, enforced by every carrier before this is called.
 */
import { refusalReply } from "../peer/refusal.ts";
import { decodeBatch, decodeKvRequest, encodeBatchReplies, encodeGetReply, encodePutReply } from "../wire/replica.ts";
import { MAX_BATCH_MESSAGES } from "./batcher.ts";
import type { Replica } from "./replica.ts";
import type { Acceptor } from "../cas/acceptor.ts";
import { encodeAcceptReply, encodeCasState, encodePrepareReply } from "../wire/cas.ts";

export interface ReplicaMessages {
  /** A batch's body → its replies' body; throws (a 4xx) if the batch itself is unreadable. */
  answerBatch(bytes: Uint8Array): Uint8Array;
}

export function replicaMessages(replica: Replica, acceptor: Acceptor): ReplicaMessages {
  function answer(bytes: Uint8Array): Uint8Array {
    const m = decodeKvRequest(bytes);
    switch (m.type) {
      case "put":
        return encodePutReply(replica.put(m.key, m.entry, m.epoch));
      case "put-above":
        return encodePutReply(replica.putAbove(m.key, m.entry, m.epoch));
      case "get":
        return encodeGetReply(replica.get(m.key, m.epoch), m.have, m.head);
      case "prepare":
        return encodePrepareReply(acceptor.prepare(m.key, m.ballot, m.epoch));
      case "accept":
        return encodeAcceptReply(acceptor.accept(m.key, m.ballot, m.base, m.entry, m.epoch));
      case "cas-state":
        return encodeCasState(acceptor.state(m.key, m.epoch));
    }
  }
  return {
    answerBatch(bytes) {
      const replies = decodeBatch(bytes, MAX_BATCH_MESSAGES).map((m) => {
        try {
          return { status: 200, body: answer(m) };
        } catch (err) {
          return refusalReply(err);
        }
      });
      return encodeBatchReplies(replies);
    },
  };
}
