/**
 * A listing's message to one node (`/_kv/list`): the entries it holds whose keys start with
 * `prefix`, after `after`, at most `limit`, in key order; tombstones and expired entries
 * included (the asker resolves versions), values only when asked for.
 */
import { encodeMsgpack as encode } from "./msgpack.ts";
import { bool, count, isInt, list, MAX_KEY_LENGTH, mapDecoder, MessageError, text, version, versionToWire } from "./fields.ts";
import type { Version } from "../store/version.ts";

export { LIST_PATH } from "./paths.ts";
/** Most entries one node answers for one page: the largest page a client may ask. */
export const MAX_LIST_LIMIT = 1_000;
/** A listing's reply carries values of at most this many bytes, and this many in all. */
export const MAX_INLINE_VALUE_BYTES = 64 * 1024;
export const MAX_INLINE_BYTES = 4 * 1024 * 1024;

export interface ListRequest {
  /** The ring epoch the asker placed the page in; a node at a later one refuses (409). */
  epoch: number;
  prefix: string;
  after?: string;
  limit: number;
  values: boolean;
}

export interface ListedEntry {
  key: string;
  version: Version;
  tombstone: boolean;
  expires?: number;
  /** The value, when asked for and small enough; absent otherwise. */
  value?: Uint8Array;
}

export interface ListReply {
  entries: ListedEntry[];
  /** Whether the node holds more such keys after the last one. */
  more: boolean;
  /**
   * Keys of the page with a conditional write this node accepted above what it stores (or
   * where it stores nothing), and that write's version: it may be chosen and answered
   * before its commit lands, so the asker reads such keys through Paxos (lib/cas).
   */
  pending?: Array<[string, Version]>;
}

export const encodeListRequest = (r: ListRequest) => encode({ e: r.epoch, prefix: r.prefix, after: r.after ?? null, limit: r.limit, values: r.values });

export function decodeListRequest(bytes: Uint8Array): ListRequest {
  const m = map(bytes);
  const limit = count(m.limit, "limit");
  if (limit < 1 || limit > MAX_LIST_LIMIT) throw new MessageError(`limit must be 1 to ${MAX_LIST_LIMIT}`);
  const request: ListRequest = { epoch: count(m.e, "e (the epoch)"), prefix: text(m.prefix, "prefix", MAX_KEY_LENGTH, 0), limit, values: bool(m.values, "values") };
  if (m.after != null) request.after = text(m.after, "after", MAX_KEY_LENGTH, 0);
  return request;
}

export function encodeListReply(r: ListReply): Uint8Array {
  return encode({
    more: r.more,
    entries: r.entries.map((e) => [e.key, versionToWire(e.version), e.tombstone, e.expires ?? null, e.value ?? null]),
    ...(r.pending?.length ? { pending: r.pending.map(([key, v]) => [key, versionToWire(v)]) } : {}),
  });
}

export function decodeListReply(bytes: Uint8Array): ListReply {
  const m = map(bytes);
  const entries = list(m.entries, "entries", MAX_LIST_LIMIT).map((e): ListedEntry => {
    if (!Array.isArray(e) || e.length !== 5) throw new MessageError("a listed entry is [key, version, tombstone, expires, value]");
    const [key, v, tombstone, expires, value] = e;
    const listed: ListedEntry = { key: text(key, "key", MAX_KEY_LENGTH), version: version(v), tombstone: bool(tombstone, "tombstone") };
    if (expires != null) {
      if (!isInt(expires)) throw new MessageError("expires must be a non-negative integer");
      listed.expires = expires;
    }
    if (value != null) {
      if (!(value instanceof Uint8Array)) throw new MessageError("value must be bytes");
      listed.value = value;
    }
    return listed;
  });
  const reply: ListReply = { entries, more: bool(m.more, "more") };
  if (m.pending != null) {
    reply.pending = list(m.pending, "pending", MAX_LIST_LIMIT).map((p): [string, Version] => {
      if (!Array.isArray(p) || p.length !== 2) throw new MessageError("a pending key is [key, version]");
      return [text(p[0], "key", MAX_KEY_LENGTH), version(p[1])];
    });
  }
  return reply;
}

const map = mapDecoder({ maxStrLength: 64 * 1024, maxArrayLength: MAX_LIST_LIMIT, maxMapLength: 8, maxBinLength: MAX_INLINE_VALUE_BYTES });
