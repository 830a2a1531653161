/**
 * Node: its http server bridged to `fetch` by @hono/node-server (within a few percent of
 * a bare server), and peer streams on `ws`, server and client (Node 20 has no WebSocket
 * server, and ws's client costs 15-30% less CPU a message than undici's). HTTP peer
 * messages go through undici's keep-alive Pool, since Node 20's global fetch manages about
 * a tenth of Pool.request's rate for small POSTs.
 */
import { createServer } from "node:http";
import { getRequestListener } from "@hono/node-server";
import { Pool } from "undici";
import { WebSocketServer } from "ws";
import type { Transport } from "../lib/env.ts";
import { STREAM_PATH } from "../lib/wire/paths.ts";
import { streamTransport } from "../lib/stream/transport.ts";
import { type Adapter, type FetchHandler, handshakeProblem, listenError, type ServeOptions } from "./types.ts";
import { openWsStream } from "./ws_client.ts";

async function serve(fetch: FetchHandler, options: ServeOptions) {
  const server = createServer(getRequestListener(fetch));
  server.keepAliveTimeout = 65_000; // longer than common client/load-balancer idle timeouts
  const { stream } = options;
  const streams = stream ? new WebSocketServer({ noServer: true, maxPayload: stream.maxFrameBytes, perMessageDeflate: false }) : undefined;
  server.on("upgrade", (request, socket, head) => {
    if (!stream || !streams || request.url !== STREAM_PATH) return refuse(socket, 404, "Not Found", `no WebSocket route ${JSON.stringify(request.url)}: peer streams open at ${STREAM_PATH}`);
    const problem = handshakeProblem((name) => request.headers[name] as string | undefined);
    if (problem) return refuse(socket, 400, "Bad Request", problem); // ws would answer an HTML page
    streams.handleUpgrade(request, socket, head, (ws) => {
      ws.on("error", () => ws.terminate());
      ws.on("message", (data, isBinary) => {
        if (!isBinary || !(data instanceof Uint8Array)) return ws.close(1003, "binary frames only");
        stream.respond(data).then(
          (reply) => ws.send(reply),
          () => ws.close(1007, "unreadable frame"),
        );
      });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (err) => reject(listenError(err, options)));
    server.listen(options.port, options.hostname, resolve);
  });
  return {
    close: () =>
      new Promise<void>((resolve) => {
        for (const ws of streams?.clients ?? []) ws.terminate();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** An upgrade refused before it is taken: the same JSON error as the node's routes give, on the raw socket. */
function refuse(socket: { end(data: string): void }, status: number, reason: string, error: string): void {
  const body = JSON.stringify({ error });
  socket.end(`HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json\r\nconnection: close\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
}

/** One keep-alive pool per peer; each request is a msgpack POST to an internal route. */
export function undiciTransport(connectionsPerPeer = 16): Transport {
  const pools = new Map<string, Pool>();
  return {
    async send(peer, path, body, signal) {
      let pool = pools.get(peer);
      if (!pool) {
        pool = new Pool(`http://${peer}`, { connections: connectionsPerPeer });
        pools.set(peer, pool);
      }
      const reply = await pool.request({
        path,
        method: "POST",
        headers: { "content-type": "application/msgpack" },
        body,
        signal,
      });
      return { status: reply.statusCode, body: new Uint8Array(await reply.body.arrayBuffer()) };
    },
    async close() {
      const closing = [...pools.values()];
      pools.clear();
      await Promise.all(closing.map((p) => p.close()));
    },
  };
}

export const adapter: Adapter = {
  runtime: "node",
  serve,
  transport: () => streamTransport(undiciTransport(), openWsStream),
};
