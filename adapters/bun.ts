/** Bun: Bun.serve takes the fetch handler as it is. */
import { fetchTransport } from "../lib/env.ts";
import { type Adapter, type FetchHandler, listenError, type ServeOptions } from "./types.ts";

async function serve(fetch: FetchHandler, options: ServeOptions) {
  let server: ReturnType<typeof Bun.serve>;
  try {
    // The node enforces its own value limit while reading; Bun's must not cut in first.
    server = Bun.serve({ fetch, hostname: options.hostname, port: options.port, maxRequestBodySize: 2 ** 40 });
  } catch (err) {
    throw listenError(err, options);
  }
  return { close: () => server.stop(true) };
}

export const adapter: Adapter = { runtime: "bun", serve, transport: () => fetchTransport() };
