/**
 * The receiving end of a peer stream: each request frame is answered by the handler for
 * its path, the same function the HTTP route calls (so the same checks and limits), with
 * no Request or Response made in between: on Node building them cost more than the
 * message's own work. Adapters own the socket; this owns the meaning.
 */
import { errorReply } from "../http/errors.ts";
import { batchBodyLimit } from "../http/replica_routes.ts";
import { decodeRequestFrame, encodeReplyFrame } from "./frames.ts";

/** Answers one request frame; throws FrameError when the frame cannot be read at all. */
export type StreamResponder = (frame: Uint8Array) => Promise<Uint8Array<ArrayBuffer>>;

/** A route's body → the reply body; throws a named error (lib/http/errors.ts) to refuse. */
export type StreamHandler = (body: Uint8Array) => Uint8Array | Promise<Uint8Array>;

/** A frame carries one `/_kv/batch` body at most (the handler refuses any larger anyway). */
export const maxFrameBytes = (maxValueBytes: number) => batchBodyLimit(maxValueBytes) + 64 * 1024;

const utf8 = new TextEncoder();

export function streamResponder(
  handlers: Record<string, StreamHandler>,
  observe: (path: string, status: number) => void = () => {},
): StreamResponder {
  const known = new Map(Object.entries(handlers));
  return async (frame) => {
    const { id, path, body } = decodeRequestFrame(frame);
    const handler = known.get(path);
    let status = 200;
    let reply: Uint8Array;
    if (!handler) {
      status = 404;
      reply = utf8.encode(JSON.stringify({ error: `no route ${JSON.stringify(path)} on a peer stream; it carries ${[...known.keys()].join(", ")}` }));
    } else {
      try {
        reply = await handler(body);
      } catch (err) {
        ({ status, body: reply } = errorReply(err));
      }
    }
    observe(handler ? path : "unmatched", status);
    return encodeReplyFrame(id, status, reply);
  };
}
