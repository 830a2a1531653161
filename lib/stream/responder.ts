/**
 * The receiving end of a peer stream: each request frame is answered through the peer
 * table (the handler its POST would reach, with the same checks and limits), with no
 * Request or Response made in between: on Node building them cost more than the message's
 * own work. Adapters own the socket; this owns the meaning.
 */
import type { Metrics } from "../metrics.ts";
import type { PeerTable } from "../peer/table.ts";
import { batchBodyLimit } from "../wire/paths.ts";
import { decodeRequestFrame, encodeReplyFrame } from "../wire/frames.ts";
import { MAX_PENDING_PER_STREAM } from "./transport.ts";

/** Answers one request frame; throws FrameError when the frame cannot be read at all. */
export type StreamResponder = (frame: Uint8Array) => Promise<Uint8Array<ArrayBuffer>>;

/** A frame carries one `/_kv/batch` body at most (the handler refuses any larger anyway). */
export const maxFrameBytes = (maxValueBytes: number) => batchBodyLimit(maxValueBytes) + 64 * 1024;

/** Counts what a node's stream answered, by route and status, in `dht_stream_frames_total`. */
export function frameCounter(metrics: Metrics): (path: string, status: number) => void {
  const frames = metrics.counter("dht_stream_frames_total", "Peer stream requests answered, by route and status", ["route", "status"]);
  return (route, status) => frames.inc([route, String(status)]);
}

export function streamResponder(table: PeerTable, observe: (path: string, status: number) => void = () => {}): StreamResponder {
  return async (frame) => {
    const { id, path, body } = decodeRequestFrame(frame);
    const reply = await table.answer(path, body);
    observe(table.get(path) ? path : "unmatched", reply.status);
    return encodeReplyFrame(id, reply.status, reply.body);
  };
}

/** What a socket's receiving side needs of its socket. */
export interface ReplySocket {
  send(reply: Uint8Array<ArrayBuffer>): void;
  close(code: number, reason: string): void;
}

/**
 * One socket's receiving side, made per connection by the adapters: each binary frame is
 * answered on the socket it came on; a frame that cannot be read closes that socket, and so
 * does one more frame than MAX_PENDING_PER_STREAM in flight (a sender of ours never has
 * more), so a peer that floods cannot grow this node's work without limit.
 */
export function socketResponder(respond: StreamResponder, socket: ReplySocket): (frame: Uint8Array) => void {
  let inFlight = 0;
  let open = true;
  const close = (code: number, reason: string) => {
    if (!open) return;
    open = false;
    socket.close(code, reason);
  };
  return (frame) => {
    if (!open) return;
    if (inFlight >= MAX_PENDING_PER_STREAM) return close(1008, "too many frames in flight");
    inFlight++;
    respond(frame).then(
      (reply) => {
        inFlight--;
        if (open) socket.send(reply);
      },
      () => {
        inFlight--;
        close(1007, "unreadable frame");
      },
    );
  };
}
