/**
 * The sending end of peer streams: a Transport that carries some internal routes (by
 * default `/_kv/batch`, the replica messages) over one WebSocket per peer, many requests
 * in flight at once, and hands every other route to an HTTP transport. Membership probes
 * stay on HTTP on purpose: they check the path clients use, and never wait behind data.
 *
 * A socket is opened on first use and reopened on the first use after it closed. When it
 * closes, every request in flight on it fails, as an HTTP request to a vanished peer
 * would; the caller's AbortSignal (its timeout) covers a peer that stops answering. A
 * socket on which STALL_ABORTS requests in a row timed out with nothing at all arriving
 * since they were sent is taken for stalled (a link that was cut one way or dropped
 * packets for a while leaves TCP retransmitting on a long backoff, long after the link is
 * back) and closed, so the next request opens a fresh one.
 */
import type { PeerReply, Transport } from "../env.ts";
import { decodeReplyFrame, encodeRequestFrame } from "../wire/frames.ts";
import { BATCH_PATH, STREAM_PATH } from "../wire/paths.ts";

/** The part of the standard WebSocket a stream uses. */
export interface StreamSocket {
  binaryType: string;
  send(data: Uint8Array<ArrayBuffer>): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: unknown) => void) | null;
  onerror: ((event: unknown) => void) | null;
}

/** Opens a WebSocket to `url`: the runtime's `WebSocket` (undici's on Node 20). */
export type OpenSocket = (url: string) => StreamSocket;

export const STREAMED_PATHS: readonly string[] = [BATCH_PATH];

/** Requests in flight on one stream at most; past it a request fails at once. */
export const MAX_PENDING_PER_STREAM = 10_000;
/** Timed-out requests in a row, with no frame received since each was sent, that close a socket as stalled. */
export const STALL_ABORTS = 3;

export class StreamClosedError extends Error {
  override name = "StreamClosedError";
}

/** `secure`: the nodes serve TLS (`--tls-cert`), so streams open with `wss:`, trusting what `open` trusts. */
export function streamTransport(http: Transport, open: OpenSocket, { paths = STREAMED_PATHS, secure = false }: { paths?: readonly string[]; secure?: boolean } = {}): Transport {
  const streamed = new Set(paths);
  const scheme = secure ? "wss" : "ws";
  const streams = new Map<string, PeerStream>();
  return {
    send(peer, path, body, signal) {
      if (!streamed.has(path)) return http.send(peer, path, body, signal);
      let stream = streams.get(peer);
      if (!stream) {
        const opened: PeerStream = new PeerStream(peer, open(`${scheme}://${peer}${STREAM_PATH}`), () => {
          if (streams.get(peer) === opened) streams.delete(peer);
        });
        streams.set(peer, (stream = opened));
      }
      return stream.request(path, body, signal);
    },
    async close() {
      for (const stream of streams.values()) stream.close();
      streams.clear();
      await http.close();
    },
  };
}

interface Pending {
  resolve(reply: PeerReply): void;
  reject(err: unknown): void;
  signal?: AbortSignal;
  onAbort?: () => void;
}

class PeerStream {
  #nextId = 0;
  readonly #pending = new Map<number, Pending>();
  /** Frames written before the socket opened; undefined once it has. */
  #queued: Array<Uint8Array<ArrayBuffer>> | undefined = [];
  #closed = false;
  /** Frames received so far, and requests in a row that timed out with none received since they were sent. */
  #received = 0;
  #silentAborts = 0;

  constructor(
    private readonly peer: string,
    private readonly socket: StreamSocket,
    private readonly onGone: () => void,
  ) {
    socket.binaryType = "arraybuffer";
    socket.onopen = () => {
      const queued = this.#queued ?? [];
      this.#queued = undefined;
      for (const frame of queued) socket.send(frame);
    };
    socket.onmessage = (event) => this.#receive(event.data);
    socket.onerror = () => this.#fail(new StreamClosedError(`stream to ${peer} failed`));
    socket.onclose = () => this.#fail(new StreamClosedError(`stream to ${peer} closed`));
  }

  request(path: string, body: Uint8Array, signal?: AbortSignal): Promise<PeerReply> {
    if (this.#closed) return Promise.reject(new StreamClosedError(`stream to ${this.peer} closed`));
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.#pending.size >= MAX_PENDING_PER_STREAM) return Promise.reject(new StreamClosedError(`${this.#pending.size} requests already in flight to ${this.peer}`));
    this.#nextId = (this.#nextId + 1) >>> 0;
    const id = this.#nextId;
    const frame = encodeRequestFrame(id, path, body);
    return new Promise<PeerReply>((resolve, reject) => {
      const pending: Pending = { resolve, reject };
      if (signal) {
        pending.signal = signal;
        const receivedBefore = this.#received;
        pending.onAbort = () => {
          this.#pending.delete(id);
          reject(signal.reason);
          if (this.#received !== receivedBefore) return;
          if (++this.#silentAborts >= STALL_ABORTS) this.#fail(new StreamClosedError(`stream to ${this.peer} stalled: ${STALL_ABORTS} requests in a row had no answer and nothing arrived`));
        };
        signal.addEventListener("abort", pending.onAbort, { once: true });
      }
      this.#pending.set(id, pending);
      if (this.#queued) this.#queued.push(frame);
      else this.socket.send(frame);
    });
  }

  close(): void {
    this.#fail(new StreamClosedError(`stream to ${this.peer} closed by this node`));
  }

  #receive(data: unknown): void {
    const bytes = data instanceof ArrayBuffer
      ? new Uint8Array(data)
      : ArrayBuffer.isView(data)
      ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
      : undefined;
    this.#received++;
    this.#silentAborts = 0;
    let reply;
    try {
      if (!bytes) throw new Error("a text frame");
      reply = decodeReplyFrame(bytes);
    } catch (err) {
      this.#fail(new StreamClosedError(`stream to ${this.peer} sent a bad frame: ${(err as Error).message}`));
      return;
    }
    const pending = this.#pending.get(reply.id);
    if (!pending) return; // its request was abandoned (timed out)
    this.#pending.delete(reply.id);
    if (pending.onAbort) pending.signal!.removeEventListener("abort", pending.onAbort);
    pending.resolve({ status: reply.status, body: reply.body });
  }

  #fail(err: Error): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#queued = undefined;
    this.onGone();
    for (const pending of this.#pending.values()) {
      if (pending.onAbort) pending.signal!.removeEventListener("abort", pending.onAbort);
      pending.reject(err);
    }
    this.#pending.clear();
    try {
      this.socket.close();
    } catch {
      // already closing
    }
  }
}
