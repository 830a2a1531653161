/**
 * Replica messages, puts and gets, which travel in batches (`/_kv/batch`): msgpack,
 * validated on decode with size limits. A version travels as [wall, logical, node].
 *
 * A get may say which version the asker already holds (`have`); a replica holding exactly
 * that version answers `{same: true}` instead of the entry. A version names one write (a
 * coordinator never issues the same one twice, and copies keep it), so the asker's own
 * entry is the replica's. In a quorum read the coordinator is usually a replica and holds
 * the newest version, so most replies shrink to a few bytes with nothing to decode.
 */
import { encodeMsgpack as encode, msgpackDecoder } from "./msgpack.ts";
import { count, entry, entryToWire, MAX_KEY_LENGTH, mapDecoder, MessageError, startsWith, text, version, versionToWire, decodeOrThrow } from "./fields.ts";
import type { Entry } from "../store/store.ts";
import { compareVersions, type Version } from "../store/version.ts";
import { type AcceptReply, type CasRequest, CHOSEN_KEPT, decodeAcceptReply, decodeCasFields, decodeCasState, decodePrepareReply, encodeCasRequest, type CasState, type Pending, pendingFromWire, pendingToWire, type PrepareReply } from "./cas.ts";

/** `epoch`: the ring epoch the coordinator placed the key in; a replica at a later one refuses. */
export type KvRequest =
  | { type: "put"; key: string; epoch: number; entry: Entry }
  /** A plain write stored only above everything the replica holds, stored or accepted (lib/replication/write.ts). */
  | { type: "put-above"; key: string; epoch: number; entry: Entry }
  /** `head`: the entry without its value, for a writer that needs only the versions (an older replica sends it whole). */
  | { type: "get"; key: string; epoch: number; have?: Version; head?: true }
  | CasRequest;

/** A put's answer: stored, or refused with the newer version the replica holds. */
export interface PutReply {
  applied: boolean;
  current?: Version;
}

/**
 * A get's answer: the replica's entry for the key, tombstones included; `pending`: a
 * conditional write this replica accepted above what it stores (its ballot, base and
 * entry), which may have been chosen and answered without being committed yet (lib/cas,
 * docs/cas.md).
 */
export interface GetReply {
  entry?: Entry;
  pending?: Pending;
}

/** A value of up to 512 MiB (the largest --max-value-bytes) plus its key and headers. */
export const MAX_KV_MESSAGE_BYTES = 512 * 1024 * 1024 + 64 * 1024;

export function encodeKvRequest(request: KvRequest): Uint8Array {
  if (request.type === "prepare" || request.type === "accept" || request.type === "cas-state") return encodeCasRequest(request);
  return request.type === "put" || request.type === "put-above"
    ? encode({ type: request.type, key: request.key, e: request.epoch, entry: entryToWire(request.entry) })
    : request.head
    ? encode({ type: "get", key: request.key, e: request.epoch, have: request.have ? versionToWire(request.have) : null, head: true })
    : request.have
    ? encode({ type: "get", key: request.key, e: request.epoch, have: versionToWire(request.have) })
    : encode({ type: "get", key: request.key, e: request.epoch });
}

/**
 * The usual replies, "stored" and "same", are encoded once: every put a replica stores and
 * every settled read answers with these very bytes, which their decoders recognise without
 * decoding (what msgpack would give for them, at a fraction of the cost).
 */
const APPLIED = encode({ applied: true, current: null });
const SAME = encode({ same: true });

const isExactly = (bytes: Uint8Array, known: Uint8Array) => bytes.byteLength === known.byteLength && startsWith(bytes, known);

export function encodePutReply(reply: PutReply): Uint8Array {
  if (reply.applied && !reply.current) return APPLIED;
  return encode({ applied: reply.applied, current: reply.current ? versionToWire(reply.current) : null });
}

/**
 * The reply to a get; just `{same: true}` when the entry's version is the asker's `have`.
 * `head`: the entry with an empty value (its version, expiry and tombstone kept).
 */
export function encodeGetReply(reply: GetReply, have?: Version, head?: true): Uint8Array {
  const same = have && reply.entry && compareVersions(reply.entry.version, have) === 0;
  if (same && !reply.pending) return SAME;
  const entry = same || !reply.entry ? null : entryToWire(head ? { ...reply.entry, value: NO_VALUE } : reply.entry);
  if (reply.pending) return encode({ ...(same ? { same: true } : { entry }), p: pendingToWire(reply.pending) });
  return encode({ entry });
}

const NO_VALUE = new Uint8Array(0);

export function decodeKvRequest(bytes: Uint8Array): KvRequest {
  const m = map(bytes);
  const key = text(m.key, "key", MAX_KEY_LENGTH);
  const epoch = count(m.e, "e (the epoch)");
  if (m.type === "put") return { type: "put", key, epoch, entry: entry(m.entry) };
  if (m.type === "put-above") {
    const e = entry(m.entry);
    if (e.version.step !== undefined) throw new MessageError("a put-above carries a plain write's entry, not a conditional one");
    return { type: "put-above", key, epoch, entry: e };
  }
  if (m.type === "get") {
    const request: KvRequest = m.have == null ? { type: "get", key, epoch } : { type: "get", key, epoch, have: version(m.have) };
    if (m.head === true) request.head = true;
    return request;
  }
  if (m.type === "prepare" || m.type === "accept" || m.type === "cas-state") return decodeCasFields(m, key, epoch);
  throw new MessageError(`unknown message type ${JSON.stringify(m.type)}`);
}

export function decodePutReply(bytes: Uint8Array): PutReply {
  if (isExactly(bytes, APPLIED)) return { applied: true };
  const m = map(bytes);
  if (typeof m.applied !== "boolean") throw new MessageError("applied must be a boolean");
  return m.current == null ? { applied: m.applied } : { applied: m.applied, current: version(m.current) };
}

export const decodePrepareBody = (bytes: Uint8Array): PrepareReply => decodePrepareReply(map(bytes));
export const decodeAcceptBody = (bytes: Uint8Array): AcceptReply => decodeAcceptReply(map(bytes));
export const decodeCasStateBody = (bytes: Uint8Array): CasState => decodeCasState(map(bytes));

/** `have`: the entry the asker holds, which a `{same: true}` reply stands for. */
export function decodeGetReply(bytes: Uint8Array, have?: Entry): GetReply {
  if (have && isExactly(bytes, SAME)) return { entry: have };
  const m = map(bytes);
  const reply: GetReply = {};
  if (m.same === true) {
    if (!have) throw new MessageError("a replica answered 'same' to a get that held nothing");
    reply.entry = have;
  } else if (m.entry != null) {
    reply.entry = entry(m.entry);
  }
  if (m.p != null) reply.pending = pendingFromWire(m.p, "p");
  return reply;
}

// Lists within: versions and entries (at most 8 fields), a prepare's chosen versions (CHOSEN_KEPT).
const map = mapDecoder({ maxStrLength: 64 * 1024, maxArrayLength: CHOSEN_KEPT, maxMapLength: 16 });

/** A batch (`/_kv/batch`): encoded KV requests in; per message [status, body] out. */
export function encodeBatch(messages: readonly Uint8Array[]): Uint8Array {
  return encode(messages);
}

export function decodeBatch(bytes: Uint8Array, maxMessages: number): Uint8Array[] {
  const list = decodeList(bytes, maxMessages);
  return list.map((m) => {
    if (!(m instanceof Uint8Array)) throw new MessageError("a batch holds encoded messages");
    return m;
  });
}

export function encodeBatchReplies(replies: ReadonlyArray<{ status: number; body: Uint8Array }>): Uint8Array {
  return encode(replies.map((r) => [r.status, r.body]));
}

export function decodeBatchReplies(bytes: Uint8Array, maxMessages: number): Array<{ status: number; body: Uint8Array }> {
  return decodeList(bytes, maxMessages).map((r) => {
    if (!Array.isArray(r) || r.length !== 2 || typeof r[0] !== "number" || !(r[1] instanceof Uint8Array)) throw new MessageError("a batch reply is [status, body]");
    return { status: r[0], body: r[1] };
  });
}

/** Batches hold at most 128 messages; decoders are made once per limit. */
const listDecoders = new Map<number, (bytes: Uint8Array) => unknown>();

function decodeList(bytes: Uint8Array, max: number): unknown[] {
  let decodeWithin = listDecoders.get(max);
  if (!decodeWithin) listDecoders.set(max, (decodeWithin = msgpackDecoder({ maxArrayLength: max, maxMapLength: 0, maxStrLength: 0, maxExtLength: 0 })));
  const raw = decodeOrThrow(decodeWithin, bytes);
  if (!Array.isArray(raw)) throw new MessageError("a batch is a list");
  return raw;
}

const utf8 = new TextDecoder();

/** The epoch a replica's refusal (409, JSON `{error, epoch}`) names; 0 if it names none. */
export function refusedEpoch(body: Uint8Array): number {
  try {
    const epoch = JSON.parse(utf8.decode(body)).epoch;
    return Number.isSafeInteger(epoch) ? epoch : 0;
  } catch {
    return 0;
  }
}
