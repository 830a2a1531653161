/** Bun: Bun.serve takes the fetch handler as it is, and its own WebSocket server carries peer streams. */
import { fetchTransport } from "../lib/env.ts";
import { STREAM_PATH } from "../lib/wire/paths.ts";
import { socketResponder } from "../lib/stream/responder.ts";
import { type StreamSocket, streamTransport } from "../lib/stream/transport.ts";
import { type Adapter, type FetchHandler, handshakeProblem, isWebSocketUpgrade, jsonRefusal, listenError, type ServeOptions } from "./types.ts";

/** Each socket's own receiving side, made when it opens. */
type SocketData = { answer?: (frame: Uint8Array) => void };

async function serve(fetch: FetchHandler, options: ServeOptions) {
  const { stream } = options;
  let server: ReturnType<typeof Bun.serve<SocketData>>;
  try {
    server = Bun.serve({
      hostname: options.hostname,
      port: options.port,
      tls: options.tls,
      // The node enforces its own value limit while reading; Bun's must not cut in first.
      maxRequestBodySize: 2 ** 40,
      // Bun's own router takes the stream path, so no other request pays for the check.
      routes: {
        [STREAM_PATH]: (request, server) => {
          if (stream && isWebSocketUpgrade(request)) {
            const problem = handshakeProblem((name) => request.headers.get(name));
            if (problem) return jsonRefusal(400, problem);
            if (server.upgrade(request, { data: {} as SocketData })) return undefined;
          }
          // A route's request has a read-only `params`, which the router sets: hand it a plain copy.
          return fetch(new Request(request));
        },
      },
      fetch,
      websocket: {
        maxPayloadLength: stream?.maxFrameBytes ?? 0,
        perMessageDeflate: false,
        open(ws) {
          if (stream) ws.data.answer = socketResponder(stream.respond, { send: (reply) => ws.send(reply), close: (code, reason) => ws.close(code, reason) });
        },
        message(ws, message) {
          if (!ws.data.answer || typeof message === "string") return ws.close(1003, "binary frames only");
          ws.data.answer(message);
        },
      },
    });
  } catch (err) {
    throw listenError(err, options);
  }
  return { close: () => server.stop(true) };
}

export const adapter: Adapter = {
  runtime: "bun",
  serve,
  transport: (tls) => {
    // Bun's fetch and WebSocket take a `tls` option of their own for whom to trust.
    const trust = tls?.ca ? { tls: { ca: tls.ca } } : {};
    return streamTransport(
      fetchTransport((input, init) => fetch(input, { ...init, ...trust }), tls ? "https" : "http"),
      (url) => new WebSocket(url, trust as never) as unknown as StreamSocket,
      { secure: !!tls },
    );
  },
};
