/**
 * Node: its http server bridged to `fetch` by @hono/node-server (within a few percent of
 * a bare server), and peer streams on `ws`, server and client (Node 20 has no WebSocket
 * server, and ws's client costs 15-30% less CPU a message than undici's). HTTP peer
 * messages go through undici's keep-alive Pool, since Node 20's global fetch manages about
 * a tenth of Pool.request's rate for small POSTs.
 */
import { createServer } from "node:http";
import { createServer as createTlsServer } from "node:https";
import { getRequestListener } from "@hono/node-server";
import { Pool } from "undici";
import { WebSocketServer } from "ws";
import type { Transport } from "../lib/env.ts";
import { STREAM_PATH } from "../lib/wire/paths.ts";
import { socketResponder } from "../lib/stream/responder.ts";
import { streamTransport } from "../lib/stream/transport.ts";
import { type Adapter, type FetchHandler, handshakeProblem, listenError, type PeerTls, type ServeOptions } from "./types.ts";
import { wsStreamOpener } from "./ws_client.ts";

/**
 * A client has 10 s to send a request's headers (Node's default is 60 s), checked every
 * second: a slow-loris client's half-open connections are closed with a 408 instead of
 * being held for a minute. A whole request (body too) may take 300 s, Node's default.
 */
const SERVER_TIMEOUTS = { headersTimeout: 10_000, requestTimeout: 300_000, connectionsCheckingInterval: 1_000 };

async function serve(fetch: FetchHandler, options: ServeOptions) {
  const listener = getRequestListener(fetch);
  const server = options.tls ? tlsServer(options, listener) : createServer(SERVER_TIMEOUTS, listener);
  server.keepAliveTimeout = 65_000; // longer than common client/load-balancer idle timeouts
  const { stream } = options;
  const streams = stream ? new WebSocketServer({ noServer: true, maxPayload: stream.maxFrameBytes, perMessageDeflate: false }) : undefined;
  server.on("upgrade", (request, socket, head) => {
    if (!stream || !streams || request.url !== STREAM_PATH) return refuse(socket, 404, "Not Found", `no WebSocket route ${JSON.stringify(request.url)}: peer streams open at ${STREAM_PATH}`);
    const problem = handshakeProblem((name) => request.headers[name] as string | undefined);
    if (problem) return refuse(socket, 400, "Bad Request", problem); // ws would answer an HTML page
    streams.handleUpgrade(request, socket, head, (ws) => {
      ws.on("error", () => ws.terminate());
      const answer = socketResponder(stream.respond, { send: (reply) => ws.send(reply), close: (code, reason) => ws.close(code, reason) });
      ws.on("message", (data, isBinary) => {
        if (!isBinary || !(data instanceof Uint8Array)) return ws.close(1003, "binary frames only");
        answer(data);
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

/** A key that does not fit its certificate fails here, not at listen: said the same way as Bun's and Deno's. */
function tlsServer(options: ServeOptions, listener: ReturnType<typeof getRequestListener>) {
  try {
    return createTlsServer({ ...SERVER_TIMEOUTS, cert: options.tls!.cert, key: options.tls!.key }, listener);
  } catch (err) {
    throw listenError(err, options);
  }
}

/** An upgrade refused before it is taken: the same JSON error as the node's routes give, on the raw socket. */
function refuse(socket: { end(data: string): void }, status: number, reason: string, error: string): void {
  const body = JSON.stringify({ error });
  socket.end(`HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json\r\nconnection: close\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
}

/** A pool unused this long is closed: members that left or died do not keep sockets and memory here forever. */
export const IDLE_POOL_MS = 5 * 60_000;

/**
 * One keep-alive pool per peer; each request is a msgpack POST to an internal route (over
 * TLS with `tls`). Pools idle for `idleMs` are closed as the next request passes by, so the
 * table holds the peers talked to lately, not every address ever seen.
 */
export function undiciTransport(connectionsPerPeer = 16, tls?: PeerTls, idleMs = IDLE_POOL_MS): Transport & { pools(): number } {
  const origin = (peer: string) => `${tls ? "https" : "http"}://${peer}`;
  const connect = tls?.ca ? { ca: tls.ca } : undefined;
  const pools = new Map<string, { pool: Pool; usedAt: number }>();
  let sweptAt = performance.now();
  function sweep(now: number) {
    sweptAt = now;
    for (const [peer, entry] of pools) {
      if (now - entry.usedAt < idleMs) continue;
      pools.delete(peer);
      void entry.pool.close().catch(() => {});
    }
  }
  return {
    async send(peer, path, body, signal) {
      const now = performance.now();
      if (now - sweptAt >= idleMs / 2) sweep(now);
      let entry = pools.get(peer);
      if (!entry) pools.set(peer, (entry = { pool: new Pool(origin(peer), { connections: connectionsPerPeer, connect }), usedAt: now }));
      entry.usedAt = now;
      const reply = await entry.pool.request({
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
      await Promise.all(closing.map((e) => e.pool.close()));
    },
    pools: () => pools.size,
  };
}

export const adapter: Adapter = {
  runtime: "node",
  serve,
  transport: (tls) => streamTransport(undiciTransport(16, tls), wsStreamOpener(tls?.ca), { secure: !!tls }),
};
