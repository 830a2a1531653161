/**
 * The node's `fetch`: the router, with each request counted and timed by route pattern,
 * method and status, and every error answered through the one mapping (errors.ts).
 */
import type { Clock } from "../env.ts";
import type { Logger } from "../log.ts";
import { type CounterSeries, type HistogramSeries, latencyBuckets, type Metrics } from "../metrics.ts";
import { BadRequestError, errorResponse } from "./errors.ts";

/** Methods counted by name; any other a client sends is counted as "other", so clients cannot mint series. */
const METHODS = new Set(["GET", "HEAD", "PUT", "POST", "DELETE", "OPTIONS", "PATCH"]);

interface RouteSeries {
  latency: HistogramSeries;
  answered(method: string, status: number): CounterSeries;
}

export function instrumentedFetch(router: { fetch(request: Request): Response | Promise<Response> }, metrics: Metrics, clock: Clock, log: Logger): (request: Request) => Response | Promise<Response> {
  const requests = metrics.counter("dht_http_requests_total", "HTTP requests answered, by route and status", ["method", "route", "status"]);
  const latency = metrics.histogram("dht_http_request_duration_seconds", "Time to answer an HTTP request", ["route"], latencyBuckets);

  // A request's metrics series are found through maps keyed by the route pattern (the same
  // string every time), the method and the numeric status, not by label text built per
  // request: that cost a lone Deno node ~5% of its GET throughput. Route patterns come
  // from the router and statuses from this code, so the maps stay small.
  const seriesByRoute = new Map<string, RouteSeries>();
  function routeSeries(route: string): RouteSeries {
    let series = seriesByRoute.get(route);
    if (series) return series;
    const byMethod = new Map<string, Map<number, CounterSeries>>();
    series = {
      latency: latency.labels([route]),
      answered(method, status) {
        const name = METHODS.has(method) ? method : "other";
        let byStatus = byMethod.get(name);
        if (!byStatus) byMethod.set(name, (byStatus = new Map()));
        let counter = byStatus.get(status);
        if (!counter) byStatus.set(status, (counter = requests.labels([name, route, String(status)])));
        return counter;
      },
    };
    seriesByRoute.set(route, series);
    return series;
  }

  /** The answer counted and timed under its route; an error becomes its mapped answer first. */
  function answered(request: Request, started: number, response: Response): Response {
    const route = (request as Request & { route?: string }).route ?? "unmatched";
    const series = routeSeries(route);
    series.latency.observe((clock.monotonicMs() - started) / 1000);
    series.answered(request.method, response.status).value++;
    return response;
  }
  function failed(request: Request, err: unknown): Response {
    // A Host header that makes no URL (Bun and Deno pass it on; the router's URL parse throws).
    const response = errorResponse(unreadableUrl(request) ? new BadRequestError(`the request's Host header and path do not form a URL: ${JSON.stringify(request.headers.get("host"))}`) : err);
    // Only the unexpected is an error worth a line each; a 503 (too few replicas) is an
    // expected answer under failure or overload, counted in dht_http_requests_total.
    if (response.status === 500) log.error("request failed", { method: request.method, url: request.url, error: String(err) });
    return response;
  }

  // Not async: an answer the router gives in the same turn (a lone node's read) goes back
  // without a promise, which servers take faster than one they must wait on.
  return function fetch(request: Request): Response | Promise<Response> {
    const started = clock.monotonicMs();
    let result: Response | Promise<Response>;
    try {
      result = router.fetch(request);
    } catch (err) {
      return answered(request, started, failed(request, err));
    }
    if (!(result instanceof Promise)) return answered(request, started, result);
    return result.then(
      (response) => answered(request, started, response),
      (err) => answered(request, started, failed(request, err)),
    );
  };
}

function unreadableUrl(request: Request): boolean {
  try {
    new URL(request.url);
    return false;
  } catch {
    return true;
  }
}
