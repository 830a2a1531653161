/**
 * Node: its http server bridged to `fetch` by @hono/node-server (within a few percent of
 * a bare server), and a peer transport on undici's keep-alive Pool, since Node 20's global
 * fetch manages about a tenth of Pool.request's rate for small POSTs.
 */
import { createServer } from "node:http";
import { getRequestListener } from "@hono/node-server";
import { Pool } from "undici";
import type { Transport } from "../lib/env.ts";
import { type Adapter, type FetchHandler, listenError, type ServeOptions } from "./types.ts";

async function serve(fetch: FetchHandler, options: ServeOptions) {
  const server = createServer(getRequestListener(fetch));
  server.keepAliveTimeout = 65_000; // longer than common client/load-balancer idle timeouts
  await new Promise<void>((resolve, reject) => {
    server.once("error", (err) => reject(listenError(err, options)));
    server.listen(options.port, options.hostname, resolve);
  });
  return {
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
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

export const adapter: Adapter = { runtime: "node", serve, transport: () => undiciTransport() };
