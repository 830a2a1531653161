/** Deno: Deno.serve takes the fetch handler as it is; Deno.upgradeWebSocket carries peer streams. */
import { fetchTransport } from "../lib/env.ts";
import { streamTransport } from "../lib/stream/transport.ts";
import { openWsStream } from "./ws_client.ts";
import { type Adapter, type FetchHandler, handshakeProblem, isWebSocketUpgrade, jsonRefusal, listenError, type ServeOptions } from "./types.ts";

/** The slice of Deno's API used here, typed locally so `tsc` needs no Deno type package. */
interface DenoApi {
  serve(
    options: { hostname: string; port: number; onListen: () => void },
    handler: FetchHandler,
  ): { shutdown(): Promise<void> };
  upgradeWebSocket(request: Request): { socket: WebSocket; response: Response };
}

async function serve(fetch: FetchHandler, options: ServeOptions) {
  const deno = (globalThis as unknown as { Deno: DenoApi }).Deno;
  const { stream } = options;
  const sockets = new Set<WebSocket>();

  function accept(request: Request, respond: NonNullable<ServeOptions["stream"]>): Response {
    const problem = handshakeProblem((name) => request.headers.get(name));
    if (problem) return jsonRefusal(400, problem); // Deno.upgradeWebSocket would complete it
    const { socket, response } = deno.upgradeWebSocket(request);
    socket.binaryType = "arraybuffer";
    sockets.add(socket);
    socket.onclose = () => sockets.delete(socket);
    socket.onmessage = (event) => {
      const data = event.data;
      if (!(data instanceof ArrayBuffer)) return socket.close(1003, "binary frames only");
      if (data.byteLength > respond.maxFrameBytes) return socket.close(1009, "frame too large");
      respond.respond(new Uint8Array(data)).then(
        (reply) => {
          if (socket.readyState === WebSocket.OPEN) socket.send(reply);
        },
        () => socket.close(1007, "unreadable frame"),
      );
    };
    return response;
  }

  let server: ReturnType<DenoApi["serve"]>;
  try {
    server = deno.serve(
      { hostname: options.hostname, port: options.port, onListen: () => {} },
      fetch,
    );
  } catch (err) {
    throw listenError(err, options);
  }
  return {
    // Checking every request for an upgrade here cost a lone node's GET ~10% on Deno; the
    // node's own route for the stream path calls this instead.
    acceptStream: (request: Request) => (stream && isWebSocketUpgrade(request) ? accept(request, stream) : undefined),
    close: async () => {
      for (const socket of sockets) socket.close(1001, "node stopping");
      await server.shutdown();
    },
  };
}

export const adapter: Adapter = {
  runtime: "deno",
  serve,
  // Deno's own WebSocket client sends a frame over 1 KiB as two writes without TCP_NODELAY,
  // so each such frame waits out a delayed ACK (~40 ms): streams use ws's client instead.
  transport: () => streamTransport(fetchTransport(), openWsStream),
};
