/** Deno: Deno.serve takes the fetch handler as it is; Deno.upgradeWebSocket carries peer streams. */
import { fetchTransport } from "../lib/env.ts";
import { socketResponder } from "../lib/stream/responder.ts";
import { streamTransport } from "../lib/stream/transport.ts";
import { wsStreamOpener } from "./ws_client.ts";
import { type Adapter, type FetchHandler, handshakeProblem, isWebSocketUpgrade, jsonRefusal, listenError, type PeerTls, type ServeOptions } from "./types.ts";

/** The slice of Deno's API used here, typed locally so `tsc` needs no Deno type package. */
interface DenoApi {
  serve(
    options: { hostname: string; port: number; onListen: () => void; cert?: string; key?: string },
    handler: FetchHandler,
  ): { shutdown(): Promise<void> };
  createHttpClient(options: { caCerts: string[] }): unknown;
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
    const answer = socketResponder(respond.respond, {
      send: (reply) => socket.readyState === WebSocket.OPEN && socket.send(reply),
      close: (code, reason) => socket.close(code, reason),
    });
    socket.onmessage = (event) => {
      const data = event.data;
      if (!(data instanceof ArrayBuffer)) return socket.close(1003, "binary frames only");
      if (data.byteLength > respond.maxFrameBytes) return socket.close(1009, "frame too large");
      answer(new Uint8Array(data));
    };
    return response;
  }

  let server: ReturnType<DenoApi["serve"]>;
  try {
    server = deno.serve(
      { hostname: options.hostname, port: options.port, onListen: () => {}, ...options.tls },
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
  transport: (tls) => streamTransport(peerFetch(tls), wsStreamOpener(tls?.ca), { secure: !!tls }),
};

/** Deno's fetch trusts a CA of the operator's only through a client made for it. */
function peerFetch(tls: PeerTls | undefined) {
  if (!tls) return fetchTransport();
  if (!tls.ca) return fetchTransport(undefined, "https");
  const client = (globalThis as unknown as { Deno: DenoApi }).Deno.createHttpClient({ caCerts: [tls.ca] });
  return fetchTransport((input, init) => fetch(input, { ...init, client } as RequestInit), "https");
}
