/** Replication's internal routes: `POST /_kv/put` and `POST /_kv/get`, msgpack in and out. */
import type { RouterType } from "itty-router";
import { MessageError } from "../membership/messages.ts";
import { decodeKvRequest, encodeGetReply, encodePutReply, MAX_KV_MESSAGE_BYTES } from "../replication/messages.ts";
import type { Replica } from "../replication/replica.ts";
import { readBodyLimited } from "./body.ts";
import { msgpackResponse } from "./errors.ts";


export function addReplicaRoutes(router: RouterType, replica: Replica, maxValueBytes: number): void {
  router.post("/_kv/:kind", async (request: Request & { params: { kind: string } }) => {
    const { kind } = request.params;
    if (kind !== "put" && kind !== "get") return undefined; // falls through to the 404
    const message = decodeKvRequest(await readBodyLimited(request, Math.min(MAX_KV_MESSAGE_BYTES, maxValueBytes + 64 * 1024)));
    if (message.type !== kind) throw new MessageError(`a ${message.type} message was sent to /_kv/${kind}`);
    if (message.type === "put") return msgpackResponse(encodePutReply(replica.put(message.key, message.entry)));
    return msgpackResponse(encodeGetReply(replica.get(message.key)));
  });
}
