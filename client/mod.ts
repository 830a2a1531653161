/**
 * The dht-node client: `import { connect } from "dht-node/client"`. Web standards only
 * (fetch, AbortSignal, timers), so it runs on Node, Bun, Deno and in browsers.
 *
 * It reads the agreed ring from `/cluster/ring` and sends each request to one of the key's
 * owners, which then coordinates it with one hop fewer than a node that holds no copy. It
 * follows the ring: a call finding its view older than `ringCheckMs` asks a node's
 * `/health` for the epoch (in the background) and reads the ring again when it moved, as it
 * does at once after a failure. A 503 or a failed connection is tried again on another
 * node, with backoff, within `timeoutMs` (attempts.ts says which writes may be).
 *
 * ```ts
 * const db = await connect("http://127.0.0.1:8000");
 * await db.put("greeting", "hello");
 * (await db.get("greeting"))?.text(); // "hello"
 * ```
 */
import { attempt, type AttemptOptions, DEFAULT_ATTEMPTS, DhtError, errorOf, type Retryable, tryOrder } from "./attempts.ts";
import { RingView } from "./ring_view.ts";

export { DhtError } from "./attempts.ts";

export interface ConnectOptions extends Partial<AttemptOptions> {
  /** How old the client's ring may be before a call checks the epoch (ms); default 1,000. */
  ringCheckMs?: number;
  /** false: send each request to any member, as a plain HTTP client would (to measure the hop saved). */
  ownerAware?: boolean;
  /** The fetch to send requests with; default the global one. */
  fetch?: (input: string, init: RequestInit) => Promise<Response>;
}

export interface Value {
  value: Uint8Array;
  contentType: string;
  /** The version read, for `ifMatch`. */
  version: string;
  /** When it expires (ms since the epoch), if it does. */
  expires?: number;
  text(): string;
}

export type WriteResult =
  /** `version`: what the write stored (absent for a delete of a key that was not there). */
  | { ok: true; version?: string; expires?: number }
  /** A conditional write whose condition failed: the version the key holds, or null when it holds none. */
  | { ok: false; current: string | null };

export interface WriteOptions {
  /** Only if the key holds this version (`"*"`: any value). */
  ifMatch?: string;
  /** Only if the key holds no value. */
  ifAbsent?: boolean;
}

export interface PutOptions extends WriteOptions {
  contentType?: string;
  /** Expires this many seconds after the write. */
  ttlSeconds?: number;
}

/** Connects through `seeds` (`http://host:port`, or `host:port` for plain HTTP): reads the ring from the first that answers. */
export async function connect(seeds: string | readonly string[], options: ConnectOptions = {}): Promise<Client> {
  const client = new Client(typeof seeds === "string" ? [seeds] : seeds, options);
  await client.refresh();
  return client;
}

const VERSION = "x-dht-version";
const EXPIRES = "x-dht-expires";

export class Client {
  readonly #seeds: string[];
  readonly #scheme: string;
  readonly #options: AttemptOptions & { ringCheckMs: number; ownerAware: boolean };
  readonly #fetch: NonNullable<ConnectOptions["fetch"]>;
  #ring?: RingView;
  #checkedAt = -Infinity;
  #refreshing?: Promise<void>;

  constructor(seeds: readonly string[], options: ConnectOptions = {}) {
    if (seeds.length === 0) throw new Error("connect needs at least one node's address");
    const urls = seeds.map((s) => new URL(/^[a-z]+:\/\//i.test(s) ? s : `http://${s}`));
    this.#scheme = urls[0]!.protocol;
    this.#seeds = urls.map((u) => u.host);
    this.#options = { ...DEFAULT_ATTEMPTS, ringCheckMs: 1_000, ownerAware: true, ...options };
    this.#fetch = options.fetch ?? ((input, init) => fetch(input, init));
  }

  /** The ring the client routes by (undefined until one was read). */
  get ring(): RingView | undefined {
    return this.#ring;
  }

  /** The nodes a request for `key` goes to first: its owners, as far as the client knows. */
  owners(key: string): string[] {
    return this.#ring?.owners(key) ?? [];
  }

  async get(key: string): Promise<Value | undefined> {
    const response = await this.#call(key, "GET", keyPath(key), {}, { write: false, retryable: "always" });
    if (response.status === 404) {
      await response.body?.cancel();
      return undefined;
    }
    await expect(response, 200);
    const value = new Uint8Array(await response.arrayBuffer());
    const expires = response.headers.get(EXPIRES);
    return {
      value,
      contentType: response.headers.get("content-type") ?? "application/octet-stream",
      version: response.headers.get(VERSION) ?? "",
      ...(expires ? { expires: Number(expires) } : {}),
      text: () => new TextDecoder().decode(value),
    };
  }

  async put(key: string, value: string | Uint8Array, options: PutOptions = {}): Promise<WriteResult> {
    const body = typeof value === "string" ? new TextEncoder().encode(value) : value;
    const contentType = options.contentType ?? (typeof value === "string" ? "text/plain; charset=utf-8" : "application/octet-stream");
    const path = keyPath(key) + (options.ttlSeconds !== undefined ? `?ttl=${options.ttlSeconds}` : "");
    const headers = { "content-type": contentType, ...conditionHeaders(options) };
    return written(await this.#call(key, "PUT", path, { body: body as Uint8Array<ArrayBuffer>, headers }, writeKind(options)), false);
  }

  async delete(key: string, options: WriteOptions = {}): Promise<WriteResult> {
    return written(await this.#call(key, "DELETE", keyPath(key), { headers: conditionHeaders(options) }, writeKind(options)), true);
  }

  /** One page of live keys in key order, through any node: `next` is where the next page starts, null at the end. */
  async list(query: { prefix?: string; after?: string; limit?: number } = {}): Promise<{ keys: string[]; next: string | null }> {
    const params = new URLSearchParams();
    if (query.prefix !== undefined) params.set("prefix", query.prefix);
    if (query.after !== undefined) params.set("after", query.after);
    if (query.limit !== undefined) params.set("limit", String(query.limit));
    const response = await this.#call(undefined, "GET", `/d?${params}`, {}, { write: false, retryable: "always" });
    await expect(response, 200);
    return (await response.json()) as { keys: string[]; next: string | null };
  }

  /** Reads the epoch from a node, and the ring if it moved (or none is held yet). Concurrent calls share one read. */
  refresh(): Promise<void> {
    this.#refreshing ??= this.#readRing().finally(() => (this.#refreshing = undefined));
    return this.#refreshing;
  }

  async #readRing(): Promise<void> {
    const nodes = tryOrder([], this.#ring?.members ?? [], this.#seeds, Math.random);
    const checked = (await this.#json(nodes, this.#ring ? "/health" : "/cluster/ring")) as { epoch?: unknown; vnodes?: unknown };
    this.#checkedAt = clock.now();
    if (checked.vnodes !== undefined) return void (this.#ring = RingView.from(checked));
    // A node behind the client's ring has nothing newer to give.
    if (this.#ring && typeof checked.epoch === "number" && checked.epoch <= this.#ring.epoch) return;
    const view = RingView.from(await this.#json(nodes, "/cluster/ring"));
    if (!this.#ring || view.epoch >= this.#ring.epoch) this.#ring = view;
  }

  /** A GET of JSON from the first of `nodes` that answers 200. */
  async #json(nodes: readonly string[], path: string): Promise<unknown> {
    const response = await attempt({ order: nodes, write: false, retryable: "always", failed: () => {}, send: (node, signal) => this.#send(node, "GET", path, { signal }) }, this.#options, clock);
    await expect(response, 200);
    return response.json();
  }

  async #call(key: string | undefined, method: string, path: string, init: RequestInit, kind: { write: boolean; retryable: Retryable }): Promise<Response> {
    if (clock.now() - this.#checkedAt > this.#options.ringCheckMs) void this.refresh().catch(() => {});
    const owners = key !== undefined && this.#options.ownerAware ? this.owners(key) : [];
    const order = tryOrder(owners, this.#ring?.members ?? [], this.#seeds, Math.random);
    const failed = () => void this.refresh().catch(() => {});
    return attempt({ order, ...kind, failed, send: (node, signal) => this.#send(node, method, path, { ...init, signal }) }, this.#options, clock);
  }

  #send(node: string, method: string, path: string, init: RequestInit): Promise<Response> {
    return this.#fetch(`${this.#scheme}//${node}${path}`, { ...init, method });
  }
}

const clock = {
  now: () => Date.now(),
  sleep: (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)),
  random: Math.random,
};

const keyPath = (key: string) => `/d/${encodeURIComponent(key)}`;

function conditionHeaders(options: WriteOptions): Record<string, string> {
  if (options.ifMatch !== undefined && options.ifAbsent) throw new Error("ifMatch and ifAbsent together can never hold: give one");
  if (options.ifAbsent) return { "if-none-match": "*" };
  if (options.ifMatch !== undefined) return { "if-match": options.ifMatch === "*" ? "*" : `"${options.ifMatch}"` };
  return {};
}

/** An unconditional write may be sent twice (the same value stored twice); a conditional one only if it surely never arrived. */
function writeKind(options: WriteOptions): { write: true; retryable: Retryable } {
  return { write: true, retryable: options.ifMatch !== undefined || options.ifAbsent ? "if-refused" : "always" };
}

async function written(response: Response, isDelete: boolean): Promise<WriteResult> {
  if (response.status === 412) {
    const body = (await response.json().catch(() => ({}))) as { current?: string | null };
    return { ok: false, current: body.current ?? null };
  }
  // A delete tried again may find the key its earlier try removed: absent either way.
  if (isDelete && response.status === 404) {
    await response.body?.cancel();
    return { ok: true };
  }
  await expect(response, 204);
  const expires = response.headers.get(EXPIRES);
  return { ok: true, version: response.headers.get(VERSION) ?? undefined, ...(expires ? { expires: Number(expires) } : {}) };
}

/** The response if it has this status, else a DhtError with the node's JSON error. */
async function expect(response: Response, status: number): Promise<void> {
  if (response.status === status) return;
  const body = await response.json().catch(() => undefined);
  throw new DhtError(`${response.status}: ${errorOf(body) ?? response.statusText}`, response.status, body);
}
