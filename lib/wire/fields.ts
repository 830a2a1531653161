/**
 * What every node-to-node message decoder is made of: msgpack decoding with limits, and
 * field checks that throw MessageError (a 400) naming the field. A hostile or truncated
 * body is refused here and never reaches the protocol code.
 */
import type { DecoderOptions } from "@msgpack/msgpack";
import type { Entry } from "../store/store.ts";
import type { Ballot, Version } from "../store/version.ts";
import { msgpackDecoder } from "./msgpack.ts";

/** A node-to-node body that is not a valid message: answered 400 "bad message". */
export class MessageError extends Error {
  override name = "MessageError";
}

/** Longest member id (a host:port, with room). */
export const MAX_ID_LENGTH = 300;
/** Longest key on the wire (the public API allows less). */
export const MAX_KEY_LENGTH = 4096;
/** The longest content type a value may carry (characters). */
export const MAX_CONTENT_TYPE = 1024;

/**
 * A decoder of bodies that must be one msgpack map, within `limits` and `maxBytes`;
 * made once per message family and reused.
 */
export function mapDecoder(limits: DecoderOptions, maxBytes = Infinity): (bytes: Uint8Array) => Record<string, unknown> {
  const decode = msgpackDecoder({ maxExtLength: 0, ...limits });
  return (bytes) => {
    if (bytes.byteLength > maxBytes) throw new MessageError(`message of ${bytes.byteLength} bytes is over the limit`);
    return record(decodeOrThrow(decode, bytes), "message");
  };
}

export function decodeOrThrow(decode: (bytes: Uint8Array) => unknown, bytes: Uint8Array): unknown {
  try {
    return decode(bytes);
  } catch (err) {
    throw new MessageError(`not valid msgpack: ${(err as Error).message}`);
  }
}

/** Whether `bytes` begins with `prefix`: how known bytes (a label, a usual reply) are recognised without decoding. */
export function startsWith(bytes: Uint8Array, prefix: Uint8Array): boolean {
  if (bytes.byteLength < prefix.byteLength) return false;
  for (let i = 0; i < prefix.byteLength; i++) if (bytes[i] !== prefix[i]) return false;
  return true;
}

export function record(v: unknown, field: string): Record<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v) || v instanceof Uint8Array) {
    throw new MessageError(field === "message" ? "message is not a map" : `${field} must be a map`);
  }
  return v as Record<string, unknown>;
}

export function text(v: unknown, field: string, max: number, min = 1): string {
  if (typeof v !== "string" || v.length < min || v.length > max) throw new MessageError(`${field} must be a string of ${min} to ${max} characters`);
  return v;
}

/**
 * Whether `text` is a member id: `host:port` as other nodes reach it. The host is a DNS
 * name, a dotted-quad IPv4 address or a bracketed IPv6 address; a host that starts like an
 * IPv4 address must be one (so `127.0.0C1` is refused, not looked up); the port is 1-65535,
 * written without leading zeros (as every node writes it).
 */
export function isMemberId(text: string): boolean {
  if (KNOWN_IDS.has(text)) return true;
  if (!checkMemberId(text)) return false;
  // Every message names the same few thousand members: each is checked once.
  if (KNOWN_IDS.size >= MAX_KNOWN_IDS) KNOWN_IDS.clear();
  KNOWN_IDS.add(text);
  return true;
}

/** Ids found valid lately, bounded. */
const KNOWN_IDS = new Set<string>();
const MAX_KNOWN_IDS = 50_000;

function checkMemberId(text: string): boolean {
  if (text.length > MAX_ID_LENGTH) return false;
  const m = /^(\[[0-9a-fA-F:.]{2,45}\]|[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,251}[A-Za-z0-9_])?):([1-9][0-9]{0,4})$/.exec(text);
  if (!m || Number(m[2]) > 65_535) return false;
  const host = m[1]!;
  if (/^[0-9]+(\.|$)/.test(host)) return IPV4.test(host);
  return !host.includes("..");
}

const OCTET = "(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])";
const IPV4 = new RegExp(`^${OCTET}(\\.${OCTET}){3}$`);

/** A member id (`host:port`, see isMemberId), or a MessageError naming the field. */
export function id(v: unknown, field: string): string {
  if (typeof v !== "string" || !isMemberId(v)) throw new MessageError(`${field} must be a member id (host:port): received ${JSON.stringify(typeof v === "string" ? v.slice(0, 80) : v)}`);
  return v;
}

/** A member key (`host:port#nonce`): a member id and the nonce of one process there. */
export function memberKeyText(v: unknown, field: string): string {
  const s = text(v, field, MAX_ID_LENGTH + 70);
  const hash = s.lastIndexOf("#");
  if (hash <= 0 || hash === s.length - 1 || !isMemberId(s.slice(0, hash))) throw new MessageError(`${field} must be a member key (host:port#nonce)`);
  return s;
}

export const isInt = (n: unknown, max = Number.MAX_SAFE_INTEGER): n is number =>
  typeof n === "number" && Number.isSafeInteger(n) && n >= 0 && n <= max;

export function count(v: unknown, field: string): number {
  if (!isInt(v)) throw new MessageError(`${field} must be a non-negative integer`);
  return v;
}

export function bool(v: unknown, field: string): boolean {
  if (typeof v !== "boolean") throw new MessageError(`${field} must be a boolean`);
  return v;
}

export function list(v: unknown, field: string, max: number): unknown[] {
  if (!Array.isArray(v) || v.length > max) throw new MessageError(`${field} must be a list of at most ${max}`);
  return v;
}

export function tuple(v: unknown, length: number, what: string): unknown[] {
  if (!Array.isArray(v) || v.length !== length) throw new MessageError(`${what} must be a list of ${length}`);
  return v;
}

// --- versions and entries, in the array shapes every data message uses ---

/** A plain write's version; a conditional write's adds its step and ballot. */
export type WireVersion = [wall: number, logical: number, node: string] | [wall: number, logical: number, node: string, step: number, ...WireBallot];
export type WireBallot = [epoch: number, wall: number, logical: number, node: string];
export type WireEntry = [value: Uint8Array, contentType: string, version: WireVersion, tombstone: boolean, expires?: number];

export const ballotToWire = (b: Ballot): WireBallot => [b.epoch, b.wall, b.logical, b.node];
export const versionToWire = (v: Version): WireVersion => (v.step ? [v.wall, v.logical, v.node, v.step, ...ballotToWire(v.ballot!)] : [v.wall, v.logical, v.node]);
export const entryToWire = (e: Entry): WireEntry =>
  e.expires === undefined ? [e.value, e.contentType, versionToWire(e.version), e.tombstone] : [e.value, e.contentType, versionToWire(e.version), e.tombstone, e.expires];

export function version(v: unknown): Version {
  if (!Array.isArray(v) || (v.length !== 3 && v.length !== 8)) throw new MessageError("a version must be a list of 3 or 8");
  const [wall, logical, node] = v;
  if (!isInt(wall) || !isInt(logical)) throw new MessageError("version numbers must be non-negative integers");
  if (v.length === 3) return { wall, logical, node: id(node, "version node") };
  // A conditional chain begun over an absent key has no node (store/version.ts, `successor`).
  const root = node === "" ? "" : id(node, "version node");
  return { wall, logical, node: root, step: positive(v[3], "version step"), ballot: ballot(v.slice(4)) };
}

export function ballot(v: unknown): Ballot {
  const [epoch, wall, logical, node] = tuple(v, 4, "a ballot");
  if (!isInt(epoch) || !isInt(wall) || !isInt(logical)) throw new MessageError("ballot numbers must be non-negative integers");
  return { epoch, wall, logical, node: id(node, "ballot node") };
}

function positive(v: unknown, field: string): number {
  if (!isInt(v) || v === 0) throw new MessageError(`${field} must be a positive integer`);
  return v;
}

/** An entry from its fields: value bytes, content type, version, tombstone, and its expiry if it has one. */
export function entryOf(value: unknown, contentType: unknown, v: unknown, tombstone: unknown, expires?: unknown): Entry {
  if (!(value instanceof Uint8Array)) throw new MessageError("value must be bytes");
  if (typeof contentType !== "string" || contentType.length > MAX_CONTENT_TYPE) throw new MessageError("contentType must be a short string");
  const e: Entry = { value, contentType, version: version(v), tombstone: bool(tombstone, "tombstone") };
  if (expires != null) e.expires = count(expires, "expires");
  return e;
}

/** An entry: `[value, contentType, version, tombstone]`, and `expires` (ms since the epoch) after them when it has one. */
export function entry(v: unknown): Entry {
  if (!Array.isArray(v) || (v.length !== 4 && v.length !== 5)) throw new MessageError("an entry must be a list of 4 or 5");
  const [value, contentType, ver, tombstone, expires] = v;
  return entryOf(value, contentType, ver, tombstone, expires);
}
