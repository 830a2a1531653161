/** What every runtime adapter provides: serve a fetch handler, and a peer transport. */
import type { Transport } from "../lib/env.ts";

export type FetchHandler = (request: Request) => Promise<Response>;

export interface ServeOptions {
  hostname: string;
  port: number;
}

export interface Served {
  /** Stops accepting, closes connections, resolves when the port is free. */
  close(): Promise<void>;
}

export interface Adapter {
  runtime: "node" | "bun" | "deno";
  serve(fetch: FetchHandler, options: ServeOptions): Promise<Served>;
  transport(): Transport;
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
