/**
 * Node-to-node messages over HTTP: `POST` to each path of the peer table, msgpack in and
 * out, and `GET /_kv/stream`, the WebSocket upgrade that opens a peer stream instead.
 */
import type { RouterType } from "itty-router";
import type { PeerTable } from "../peer/table.ts";
import { STREAM_PATH } from "../wire/paths.ts";
import { readBodyLimited } from "./body.ts";
import { jsonResponse, msgpackResponse } from "./errors.ts";

/** The adapter's WebSocket upgrade for a server that upgrades from its fetch handler (Deno). */
export type AcceptStream = (request: Request) => Response | undefined;

export function addPeerRoutes(router: RouterType, table: PeerTable, acceptStream?: AcceptStream): void {
  // Bun and Node take the upgrade before routing; Deno's adapter takes it here (lib/stream).
  router.get(STREAM_PATH, (request: Request) =>
    acceptStream?.(request) ?? jsonResponse(426, { error: "a peer stream is opened with a WebSocket upgrade" }, { upgrade: "websocket" }));

  for (const path of table.paths()) {
    const handler = table.get(path)!;
    router.post(path, async (request: Request) => msgpackResponse(await handler.handle(await readBodyLimited(request, handler.maxBytes))));
  }
}
