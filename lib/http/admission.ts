/**
 * How many client requests a node works on at once (`--max-client-requests`): past the
 * limit a client request is answered `503` with `Retry-After` before any work is done, so
 * overload is shed where it arrives instead of queueing without bound in memory and in
 * every replica's batches. Node-to-node routes (`/_...`) are never shed: a peer's probe or
 * replica message refused because clients are busy would make this node look dead, or
 * cost another coordinator its quorum. Their own senders bound them (stream/transport.ts,
 * replication/batcher.ts).
 */
import type { Metrics } from "../metrics.ts";

type Handler = (request: Request) => Response | Promise<Response>;

/** Seconds a shed client is asked to wait: the requests ahead of it take milliseconds. */
export const RETRY_AFTER_SECONDS = 1;

export function admitted(handle: Handler, limit: number, metrics: Metrics): Handler {
  let inFlight = 0;
  const shed = metrics.counter("dht_client_requests_shed_total", "Client requests answered 503 at once because --max-client-requests were in flight", []).labels([]);
  metrics.gauge("dht_client_requests_in_flight", "Client requests this node is working on", () => inFlight);
  const done = () => {
    inFlight--;
  };
  return (request) => {
    if (isPeerRoute(request.url)) return handle(request);
    if (inFlight >= limit) {
      shed.value++;
      return overloaded(limit);
    }
    inFlight++;
    let result: Response | Promise<Response>;
    try {
      result = handle(request);
    } catch (err) {
      inFlight--;
      throw err;
    }
    // An answer given in the same turn leaves at once, without a promise to wait on.
    if (!(result instanceof Promise)) {
      inFlight--;
      return result;
    }
    return result.finally(done);
  };
}

/** `/_swim/...`, `/_kv/...`, `/_ring/...`: read off the URL text, since a URL object per request costs. */
export function isPeerRoute(url: string): boolean {
  const scheme = url.indexOf("://");
  const path = url.indexOf("/", scheme === -1 ? 0 : scheme + 3);
  return path !== -1 && url.charCodeAt(path + 1) === 95; // "_"
}

function overloaded(limit: number): Response {
  const error = `overloaded: ${limit} client requests in flight (--max-client-requests); retry after ${RETRY_AFTER_SECONDS} s`;
  return new Response(JSON.stringify({ error }), {
    status: 503,
    headers: { "content-type": "application/json", "retry-after": String(RETRY_AFTER_SECONDS) },
  });
}
