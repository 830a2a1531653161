/** Deno: Deno.serve takes the fetch handler as it is. */
import { fetchTransport } from "../lib/env.ts";
import { type Adapter, type FetchHandler, listenError, type ServeOptions } from "./types.ts";

/** The slice of Deno's API used here, typed locally so `tsc` needs no Deno type package. */
interface DenoServe {
  serve(
    options: { hostname: string; port: number; onListen: () => void },
    handler: FetchHandler,
  ): { shutdown(): Promise<void> };
}

async function serve(fetch: FetchHandler, options: ServeOptions) {
  const deno = (globalThis as unknown as { Deno: DenoServe }).Deno;
  let server: ReturnType<DenoServe["serve"]>;
  try {
    server = deno.serve({ hostname: options.hostname, port: options.port, onListen: () => {} }, fetch);
  } catch (err) {
    throw listenError(err, options);
  }
  return { close: () => server.shutdown() };
}

export const adapter: Adapter = { runtime: "deno", serve, transport: () => fetchTransport() };
