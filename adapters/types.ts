/** What every runtime adapter provides: serve a fetch handler, and a peer transport. */
import type { Transport } from "../lib/env.ts";
import type { StreamResponder } from "../lib/stream/responder.ts";

export type FetchHandler = (request: Request) => Response | Promise<Response>;

export interface ServeOptions {
  hostname: string;
  port: number;
  /**
   * Peer streams (lib/stream): a WebSocket upgrade at STREAM_PATH whose binary frames go
   * to `respond` and whose answers go back on the same socket. A frame `respond` cannot
   * read, a text frame or one over `maxFrameBytes` closes that socket, nothing more.
   */
  stream?: { respond: StreamResponder; maxFrameBytes: number };
  /** Serve HTTPS (and `wss:` streams) with this certificate chain and key, PEM text (`--tls-cert`, `--tls-key`). */
  tls?: { cert: string; key: string };
}

/**
 * How peers are reached when the nodes serve TLS: `https:` and `wss:`, trusting `ca` (PEM,
 * `--tls-ca`) or, without it, the runtime's own roots. Absent: plain `http:` and `ws:`.
 */
export interface PeerTls {
  ca?: string;
}

export interface Served {
  /** Stops accepting, closes connections (streams too), resolves when the port is free. */
  close(): Promise<void>;
  /**
   * For a server that can only upgrade from inside its fetch handler (Deno): the node's
   * `GET /_kv/stream` route calls this, so other requests pay for no check of their own.
   */
  acceptStream?(request: Request): Response | undefined;
}

export interface Adapter {
  runtime: "node" | "bun" | "deno";
  serve(fetch: FetchHandler, options: ServeOptions): Promise<Served>;
  transport(tls?: PeerTls): Transport;
}

/** Listening failed for a reason the operator can fix: the message is one line for them. */
export class ListenError extends Error {
  override name = "ListenError";
}

/** One line for the usual listen failures, whatever the runtime called them. */
export function listenError(err: unknown, { hostname, port }: ServeOptions): Error {
  const e = err as { code?: string; name?: string; message?: string };
  const where = `${hostname}:${port}`;
  if (e.code === "EADDRINUSE" || e.name === "AddrInUse") return new ListenError(`cannot listen on ${where}: address already in use`);
  if (e.code === "EACCES" || e.name === "PermissionDenied") return new ListenError(`cannot listen on ${where}: permission denied`);
  if (e.code === "EADDRNOTAVAIL" || e.name === "AddrNotAvailable") {
    return new ListenError(`cannot listen on ${where}: address not available on this host`);
  }
  return new ListenError(`cannot listen on ${where}: ${e.message ?? String(err)}`);
}

/**
 * Is this request, already routed to the stream path, a WebSocket upgrade? (Bun's router
 * and the node's own route match the path, so no other request is asked.)
 */
export function isWebSocketUpgrade(request: Request): boolean {
  return request.method === "GET" && request.headers.get("upgrade")?.toLowerCase() === "websocket";
}

/**
 * What is wrong with a WebSocket handshake's key and version (RFC 6455, 4.2.1), if anything:
 * every runtime answers such an upgrade with the same JSON 400, where Deno completed it and
 * Node's `ws` answered an HTML page.
 */
export function handshakeProblem(header: (name: string) => string | null | undefined): string | undefined {
  if (!/^[+/0-9A-Za-z]{21}[AQgw]==$/.test(header("sec-websocket-key") ?? "")) return "a peer stream's Sec-WebSocket-Key must be 16 bytes in base64";
  if (header("sec-websocket-version") !== "13") return "a peer stream needs Sec-WebSocket-Version 13";
  return undefined;
}

/** A refusal as the node's own routes answer: a status and a JSON error. */
export const jsonRefusal = (status: number, error: string) => new Response(JSON.stringify({ error }), { status, headers: { "content-type": "application/json" } });
