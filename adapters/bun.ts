/** Bun: Bun.serve takes the fetch handler as it is, and its own WebSocket server carries peer streams. */
import { fetchTransport } from "../lib/env.ts";
import { STREAM_PATH } from "../lib/wire/paths.ts";
import { type StreamSocket, streamTransport } from "../lib/stream/transport.ts";
import { type Adapter, type FetchHandler, handshakeProblem, isWebSocketUpgrade, jsonRefusal, listenError, type ServeOptions } from "./types.ts";

async function serve(fetch: FetchHandler, options: ServeOptions) {
  const { stream } = options;
  let server: ReturnType<typeof Bun.serve>;
  try {
    server = Bun.serve({
      hostname: options.hostname,
      port: options.port,
      // The node enforces its own value limit while reading; Bun's must not cut in first.
      maxRequestBodySize: 2 ** 40,
      // Bun's own router takes the stream path, so no other request pays for the check.
      routes: {
        [STREAM_PATH]: (request, server) => {
          if (stream && isWebSocketUpgrade(request)) {
            const problem = handshakeProblem((name) => request.headers.get(name));
            if (problem) return jsonRefusal(400, problem);
            if (server.upgrade(request, { data: undefined })) return undefined;
          }
          // A route's request has a read-only `params`, which the router sets: hand it a plain copy.
          return fetch(new Request(request));
        },
      },
      fetch,
      websocket: {
        maxPayloadLength: stream?.maxFrameBytes ?? 0,
        perMessageDeflate: false,
        message(ws, message) {
          if (!stream || typeof message === "string") return ws.close(1003, "binary frames only");
          stream.respond(message).then((reply) => ws.send(reply), () => ws.close(1007, "unreadable frame"));
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
  transport: () => streamTransport(fetchTransport(), (url) => new WebSocket(url) as unknown as StreamSocket),
};
