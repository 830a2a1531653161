/**
 * Stabilisation messages (`/_kv/digest`, `/_kv/offer`, `/_kv/push`): msgpack, validated on
 * decode with size limits, like every internal message. Entries and versions travel in the
 * replication messages' array shapes.
 */
import { encodeMsgpack as encode } from "./msgpack.ts";
import { entryOf, id, isInt, list, MAX_KEY_LENGTH, mapDecoder, MessageError, text, tuple, version, versionToWire } from "./fields.ts";
import type { Entry } from "../store/store.ts";
import type { Version } from "../store/version.ts";

/** How many buckets a digest cuts the ring's space into (sync/digest.ts): the top bits of a key's position. */
export const BUCKET_BITS = 10;
export const BUCKETS = 1 << BUCKET_BITS;

/** One bucket's summary as it travels: [bucket, sum, xor, count]. */
export type BucketSummary = [bucket: number, sum: number, xor: number, count: number];

/** Why entries are pushed: the sender no longer owns them, or the receiver was behind. */
export type PushReason = "handoff" | "repair";

export interface DigestRequest {
  from: string;
  buckets: BucketSummary[];
  /** A token the receiver gave earlier, confirmed: a round of the sender's since has completed toward it (sync/tokens.ts). */
  synced?: number;
}
export interface DigestReply {
  /** Buckets that differ, with the receiver's count of shared keys in each (for the record). */
  differ: Array<[bucket: number, count: number]>;
  /** The receiver's wall clock (ms) as it compared: echoed back once a later round completes. */
  token?: number;
}
export interface OfferRequest {
  from: string;
  keys: Array<[key: string, version: Version]>;
}
export interface OfferReply {
  /** Indexes into the offer of the keys the receiver lacks or holds older: send these. */
  want: number[];
  /**
   * Indexes of keys it lacks but another member has just promised to send: do not send
   * them, and do not count them as held either (the other send may yet fail).
   */
  pending: number[];
}
export interface PushRequest {
  from: string;
  reason: PushReason;
  entries: Array<[key: string, entry: Entry]>;
}
export interface PushReply {
  /** How many entries were newer than the receiver's and stored. */
  applied: number;
}

/** Most keys an offer lists, and entries a push carries. */
export const MAX_OFFER_KEYS = 2_000;

export const encodeDigestRequest = (m: DigestRequest) => encode(m.synced === undefined ? { from: m.from, buckets: m.buckets } : { from: m.from, buckets: m.buckets, synced: m.synced });
export const encodeDigestReply = (m: DigestReply) => encode(m.token === undefined ? { differ: m.differ } : { differ: m.differ, token: m.token });
export const encodeOfferRequest = (m: OfferRequest) => encode({ from: m.from, keys: m.keys.map(([k, v]) => [k, versionToWire(v)]) });
export const encodeOfferReply = (m: OfferReply) => encode({ want: m.want, pending: m.pending });
export const encodePushRequest = (m: PushRequest) =>
  encode({
    from: m.from,
    reason: m.reason,
    entries: m.entries.map(([k, e]) => {
      const fields = [k, e.value, e.contentType, versionToWire(e.version), e.tombstone];
      return e.expires === undefined ? fields : [...fields, e.expires];
    }),
  });
export const encodePushReply = (m: PushReply) => encode({ applied: m.applied });

export function decodeDigestRequest(bytes: Uint8Array): DigestRequest {
  const m = map(bytes);
  const buckets = list(m.buckets, "buckets", BUCKETS).map((b): BucketSummary => {
    const [bucket, sum, xor, count] = tuple(b, 4, "a bucket summary");
    if (!isInt(bucket, BUCKETS - 1)) throw new MessageError("bucket out of range");
    for (const n of [sum, xor, count]) if (!isInt(n, 0xffff_ffff)) throw new MessageError("bucket sums and counts are 32-bit unsigned integers");
    return [bucket as number, sum as number, xor as number, count as number];
  });
  const request: DigestRequest = { from: id(m.from, "from"), buckets };
  if (m.synced != null) request.synced = time(m.synced, "synced");
  return request;
}

export function decodeDigestReply(bytes: Uint8Array): DigestReply {
  const m = map(bytes);
  const reply: DigestReply = {
    differ: list(m.differ, "differ", BUCKETS).map((d) => {
      const [bucket, count] = tuple(d, 2, "a difference");
      if (!isInt(bucket, BUCKETS - 1) || !isInt(count, 0xffff_ffff)) throw new MessageError("a difference is [bucket, count]");
      return [bucket as number, count as number];
    }),
  };
  if (m.token != null) reply.token = time(m.token, "token");
  return reply;
}

/** A wall-clock time in ms (fractions allowed: some clocks give them). */
function time(v: unknown, field: string): number {
  if (typeof v !== "number" || !Number.isFinite(v) || v < 0) throw new MessageError(`${field} must be a time in ms`);
  return v;
}

export function decodeOfferRequest(bytes: Uint8Array): OfferRequest {
  const m = map(bytes);
  const keys = list(m.keys, "keys", MAX_OFFER_KEYS).map((k): [string, Version] => {
    const [key, v] = tuple(k, 2, "an offered key");
    return [text(key, "key", MAX_KEY_LENGTH), version(v)];
  });
  return { from: id(m.from, "from"), keys };
}

export function decodeOfferReply(bytes: Uint8Array): OfferReply {
  const m = map(bytes);
  const indexes = (v: unknown, field: string) =>
    list(v, field, MAX_OFFER_KEYS).map((i) => {
      if (!isInt(i, MAX_OFFER_KEYS - 1)) throw new MessageError(`${field} lists offer indexes`);
      return i as number;
    });
  return { want: indexes(m.want, "want"), pending: indexes(m.pending, "pending") };
}

export function decodePushRequest(bytes: Uint8Array): PushRequest {
  const m = map(bytes);
  if (m.reason !== "handoff" && m.reason !== "repair") throw new MessageError("reason must be handoff or repair");
  const entries = list(m.entries, "entries", MAX_OFFER_KEYS).map((e): [string, Entry] => {
    if (!Array.isArray(e) || (e.length !== 5 && e.length !== 6)) throw new MessageError("a pushed entry must be a list of 5 or 6");
    const [key, value, contentType, v, tombstone, expires] = e;
    return [text(key, "key", MAX_KEY_LENGTH), entryOf(value, contentType, v, tombstone, expires)];
  });
  return { from: id(m.from, "from"), reason: m.reason, entries };
}

export function decodePushReply(bytes: Uint8Array): PushReply {
  const m = map(bytes);
  if (!isInt(m.applied, MAX_OFFER_KEYS)) throw new MessageError("applied must be a count");
  return { applied: m.applied as number };
}

const map = mapDecoder({ maxStrLength: 64 * 1024, maxArrayLength: Math.max(BUCKETS, MAX_OFFER_KEYS), maxMapLength: 8 });
