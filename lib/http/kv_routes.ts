/**
 * The public key-value API: `PUT/POST/GET/HEAD/DELETE /d/{key}`. Writes answer with the
 * version they were stored under, reads with the version they read. A write with
 * `If-Match`/`If-None-Match` is a compare-and-set (lib/cas): 412 when its condition fails.
 */
import type { RouterType } from "itty-router";
import type { Coordinator } from "../replication/coordinator.ts";
import type { Consistency } from "../replication/quorum.ts";
import { type Entry, keyBytes } from "../store/store.ts";
import { formatVersion, type Version } from "../store/version.ts";
import { readBodyLimited } from "./body.ts";
import { BadRequestError, KeyTooLongError, MethodNotAllowedError, NotFoundError, PreconditionFailedError } from "./errors.ts";
import { conditionOf } from "./conditions.ts";
import { EXPIRES_HEADER, ttlOf } from "./ttl.ts";
import type { Condition } from "../cas/condition.ts";
import type { CasOutcome } from "../cas/propose.ts";
import { MAX_CONTENT_TYPE } from "../wire/fields.ts";
import { type Handler, KEY_ROUTE } from "./hot_path.ts";

export const MAX_KEY_BYTES = 1024;
export const DEFAULT_CONTENT_TYPE = "application/octet-stream";
export const VERSION_HEADER = "x-dht-version";

interface KvRouteOptions {
  coordinator: Coordinator;
  maxValueBytes: number;
}

type KeyedRequest = Request & { params: { key: string }; query: Record<string, string | string[] | undefined> };

/** `?consistency=one|quorum|all` for one request; quorum (the configured W and R) by default. */
function consistencyOf(request: KeyedRequest, condition?: Condition): Consistency {
  const value = request.query.consistency;
  if (value === undefined) return "quorum";
  if (condition) throw new BadRequestError("a conditional write always asks a quorum of the key's owners: drop ?consistency");
  if (value === "one" || value === "quorum" || value === "all") return value;
  throw new BadRequestError(`consistency must be one, quorum or all: received ${JSON.stringify(value)}`);
}

/** Adds the routes; returns the read and write handlers, which the hot path (hot_path.ts) calls too. */
export function addKvRoutes(router: RouterType, { coordinator, maxValueBytes }: KvRouteOptions): { read: Handler; write: Handler } {
  /** Rethrows an operation's failure as the coordinator explains it (a range that lost its quorum says so). */
  const explained = (key: string) => (err: unknown): never => {
    throw coordinator.explain(err, key);
  };

  const write = async (request: KeyedRequest) => {
    const key = decodeKey(request.params.key);
    const condition = conditionOf(request.headers);
    const consistency = consistencyOf(request, condition);
    const contentType = request.headers.get("content-type") || DEFAULT_CONTENT_TYPE;
    // Replicas refuse a longer one: refused here, before anything is read or sent.
    if (contentType.length > MAX_CONTENT_TYPE) throw new BadRequestError(`content-type is ${contentType.length} characters; at most ${MAX_CONTENT_TYPE}`);
    const value = await readBodyLimited(request, maxValueBytes);
    const ttlMs = ttlOf(request.query, request.method);
    const stored = condition
      ? wonOr412(await coordinator.conditional(key, condition, { value, contentType, ttlMs }).catch(explained(key)))
      : await coordinator.put(key, { value, contentType, ttlMs }, consistency).catch(explained(key));
    return written(stored);
  };

  /** Not async: a lone node's read answers in the same turn, without a promise of ours. */
  const read = (request: KeyedRequest): Response | Promise<Response> => {
    const key = decodeKey(request.params.key);
    const found = coordinator.get(key, consistencyOf(request));
    if (!(found instanceof Promise)) return readAnswer(request, key, found);
    return found.then((entry) => readAnswer(request, key, entry), explained(key));
  };

  const remove = async (request: KeyedRequest) => {
    const key = decodeKey(request.params.key);
    const condition = conditionOf(request.headers);
    const consistency = consistencyOf(request, condition);
    ttlOf(request.query, request.method); // a ttl on DELETE is a 400, before anything is read
    if (condition) return written(wonOr412(await coordinator.conditional(key, condition, "delete").catch(explained(key))));
    const version = await coordinator.delete(key, consistency).catch(explained(key));
    if (!version) throw new NotFoundError(`key '${key}' not found`);
    return written({ version });
  };

  const emptyKey = () => {
    throw new BadRequestError("key is empty: use /d/{key} with a key of 1 to 1024 bytes");
  };
  const notOneSegment = () => {
    throw new BadRequestError("key must be one path segment: encode '/' in a key as %2F");
  };
  const wrongMethod = (request: Request) => {
    throw new MethodNotAllowedError(`method ${request.method} is not allowed on /d/{key}`, KV_METHODS);
  };

  router
    .get(KEY_ROUTE, read)
    .head(KEY_ROUTE, read)
    .put(KEY_ROUTE, write)
    .post(KEY_ROUTE, write)
    .delete(KEY_ROUTE, remove)
    .all(KEY_ROUTE, wrongMethod)
    .all("/d", emptyKey)
    .all("/d/*", notOneSegment);
  return { read: read as Handler, write: write as Handler };
}

const KV_METHODS = ["GET", "HEAD", "PUT", "POST", "DELETE"];

/** A write's answer: the version stored, and when it expires if it does. */
function written({ version, expires }: { version: Version; expires?: number }): Response {
  const headers: Record<string, string> = { [VERSION_HEADER]: formatVersion(version) };
  if (expires !== undefined) headers[EXPIRES_HEADER] = String(expires);
  return new Response(null, { status: 204, headers });
}

/** A conditional write's entry, or its 412 naming the version the key holds. */
function wonOr412(outcome: CasOutcome): Entry {
  if (outcome.won) return outcome.entry;
  const current = outcome.current ? formatVersion(outcome.current.version) : null;
  throw new PreconditionFailedError(current ? `the key holds version ${current}` : "the key holds no value", current);
}

/** A read's answer: the value (GET) or its headers alone (HEAD); a 404 when absent or deleted. */
function readAnswer(request: Request, key: string, entry: Entry | undefined): Response {
  if (!entry) throw new NotFoundError(`key '${key}' not found`);
  if (request.method === "HEAD") {
    const headers: Record<string, string> = {
      "content-type": entry.contentType,
      "content-length": String(entry.value.byteLength),
      [VERSION_HEADER]: formatVersion(entry.version),
    };
    if (entry.expires !== undefined) headers[EXPIRES_HEADER] = String(entry.expires);
    return new Response(null, { headers });
  }
  // GET is the hot path: the two headers the contract needs, as a plain object, which every
  // runtime's server takes fastest (Node's bridge hands it to writeHead as it is; pairs and
  // a shared Headers cost more on Node and Deno: docs/benchmarks.md).
  return new Response(entry.value as Uint8Array<ArrayBuffer>, { headers: { "content-type": entry.contentType, [VERSION_HEADER]: formatVersion(entry.version) } });
}

/** The path segment as the key it names: percent-decoded UTF-8 of 1 to 1024 bytes. */
export function decodeKey(segment: string): string {
  let key: string;
  try {
    key = decodeURIComponent(segment);
  } catch {
    throw new BadRequestError("key is not valid percent-encoded UTF-8");
  }
  if (key === "") throw new BadRequestError("key is empty");
  const bytes = keyBytes(key);
  if (bytes > MAX_KEY_BYTES) throw new KeyTooLongError(bytes, MAX_KEY_BYTES);
  return key;
}
