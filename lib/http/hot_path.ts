/**
 * The hot path: a plain `GET /d/{key}` or `PUT /d/{key}` (no query string) goes straight to
 * the KV read or write handler, without the router's URL parse, query parse and walk over
 * every route pattern, which itty-router does for every request. Only a URL that parsing
 * would leave exactly as it is takes this path: an authority of host name or IP characters,
 * and a key segment of characters a URL path keeps as they are, neither a dot segment nor
 * starting like one. Anything else goes through the router, which answers it as it always
 * has (a Host header that makes no URL is a 400 there).
 */

/** The KV routes' pattern, and the route a hot-path read is counted under in the metrics. */
export const KEY_ROUTE = "/d/:key";
const AUTHORITY = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;
/** Path characters the URL parser neither encodes nor interprets, not starting with a dot. */
const PLAIN_SEGMENT = /^[A-Za-z0-9_~!$&'()*+,;=:@-][A-Za-z0-9_.~!$&'()*+,;=:@%-]*$/;

/** A route's handler: an answer in the same turn, or a promise of one. */
export type Handler = (request: Request) => Response | Promise<Response>;
type RoutedRequest = Request & { params?: Record<string, string>; query?: Record<string, string>; route?: string };

/** `routerFetch`, with plain key reads and writes handed to `read` and `write` as the router would have. */
export function withHotPath(routerFetch: Handler, { read, write }: { read: Handler; write: Handler }): Handler {
  return (request) => {
    const method = request.method;
    const handler = method === "GET" ? read : method === "PUT" ? write : undefined;
    const segment = handler && plainKeySegment(request.url);
    if (segment === undefined) return routerFetch(request);
    const routed = request as RoutedRequest;
    routed.params = { key: segment };
    routed.query = Object.create(null) as Record<string, string>;
    routed.route = KEY_ROUTE;
    return handler!(routed);
  };
}

/** The `{key}` of `http(s)://authority/d/{key}` when the URL is plain enough; else undefined. */
export function plainKeySegment(url: string): string | undefined {
  const scheme = url.indexOf("://");
  if (scheme < 0) return undefined;
  const path = url.indexOf("/", scheme + 3);
  if (path < 0 || !url.startsWith("/d/", path)) return undefined;
  const segment = url.slice(path + 3);
  if (!PLAIN_SEGMENT.test(segment) || (segment[0] === "%" && /^%2e/i.test(segment))) return undefined;
  return parsableAuthority(url.slice(scheme + 3, path)) ? segment : undefined;
}

/**
 * Authorities already judged, so a client's usual Host costs a lookup. A host of name
 * characters can still fail to parse (`.2` or `1.2.3.4.5` end in a number, so the URL
 * parser takes them for IPv4 and refuses them): the parser itself decides, once each.
 */
const judged = new Map<string, boolean>();
const JUDGED_MAX = 256;

function parsableAuthority(authority: string): boolean {
  let ok = judged.get(authority);
  if (ok === undefined) {
    ok = AUTHORITY.test(authority) && URL.canParse(`http://${authority}/`);
    if (judged.size >= JUDGED_MAX) judged.clear();
    judged.set(authority, ok);
  }
  return ok;
}
