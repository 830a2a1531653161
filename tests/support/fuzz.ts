/**
 * What the fuzz tests draw from: msgpack values shaped like our messages (maps keyed by the
 * field names the decoders read, member ids, versions, bytes), byte-level mutations of real
 * messages, and the run count: bounded in `npm test`, `FUZZ_RUNS`/`FUZZ_SEED` for a longer
 * or another run (scripts/fuzz.sh).
 */
import fc from "fast-check";
import { decode, encode } from "@msgpack/msgpack";

const env = (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env ?? {};
export const FUZZ_RUNS = Number(env.FUZZ_RUNS ?? 150);
export const FUZZ_SEED = Number(env.FUZZ_SEED ?? 20261206);
export const fuzzParams = (runs = FUZZ_RUNS) => ({ numRuns: runs, seed: FUZZ_SEED, includeErrorInReport: true });

/** Every field name a decoder in lib/wire reads, so maps often hit the code past "missing field". */
export const FIELD_NAMES = [
  "accept", "accepted", "after", "applied", "b", "ballot", "base", "buckets", "chosen", "current", "differ", "e", "entries",
  "entry", "epoch", "from", "have", "id", "incarnation", "join", "key", "keys", "leaving", "limit", "members", "more",
  "nextChange", "nonce", "ok", "p", "pending", "prefix", "prepare", "promised", "reason", "ref", "refused", "same", "state",
  "streamed", "synced", "target", "timeoutMs", "token", "ts", "type", "unreached", "updates", "value", "values", "want",
] as const;

export const MESSAGE_TYPES = [
  "ping", "ping-req", "ack", "nack", "sync", "put", "put-above", "get", "delete", "prepare", "accept", "commit", "status", "hello",
  "digest", "offer", "push", "list", "alive", "suspect", "dead", "left",
] as const;

const scalar = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer({ min: -5, max: 70_000 }),
  fc.integer(),
  fc.double(),
  fc.constantFrom(0, -1, 2 ** 32, 2 ** 53, Number.MAX_SAFE_INTEGER, -0),
  fc.string({ maxLength: 12 }),
  fc.constantFrom(...MESSAGE_TYPES),
  fc.constantFrom("127.0.0.1:8000", "10.0.0.2:7000", "[::1]:9000", "a:1", "127.0.0C1:80", "host:0", ""),
  fc.uint8Array({ maxLength: 24 }),
);

/** msgpack values: scalars, arrays, and maps keyed mostly by our field names. */
export const messageValue: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    scalar,
    fc.array(tie("value"), { maxLength: 5 }),
    fc.dictionary(fc.oneof(fc.constantFrom(...FIELD_NAMES), fc.string({ maxLength: 6 })), tie("value"), { maxKeys: 6 }),
  ),
})).value;

/** A map that claims to be a message of some type, with fields of any shape. */
export const messageLike = fc
  .tuple(fc.constantFrom(...MESSAGE_TYPES), fc.dictionary(fc.constantFrom(...FIELD_NAMES), messageValue, { maxKeys: 8 }))
  .map(([type, fields]) => ({ ...fields, type }));

/** Bodies a decoder may be handed: raw bytes, msgpack of any value, or of a message-like map. */
export const body = fc.oneof(
  fc.uint8Array({ maxLength: 64 }),
  messageValue.map((v) => encode(v)),
  messageLike.map((v) => encode(v)),
);

export type ByteEdit = { kind: "flip"; at: number; xor: number } | { kind: "cut"; at: number } | { kind: "insert"; at: number; bytes: Uint8Array };

/** One edit of a real message's bytes: a byte flipped, a cut, bytes put in. */
export const byteEdit: fc.Arbitrary<ByteEdit> = fc.oneof(
  fc.record({ kind: fc.constant("flip" as const), at: fc.nat(), xor: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ kind: fc.constant("cut" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("insert" as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
);

export function applyByteEdit(bytes: Uint8Array, edit: ByteEdit): Uint8Array {
  const at = bytes.byteLength === 0 ? 0 : edit.at % bytes.byteLength;
  if (edit.kind === "cut") return bytes.slice(0, at);
  if (edit.kind === "insert") return new Uint8Array([...bytes.subarray(0, at), ...edit.bytes, ...bytes.subarray(at)]);
  if (bytes.byteLength === 0) return bytes;
  const out = bytes.slice();
  out[at]! ^= edit.xor;
  return out;
}

/** A real message with one field of its map (at any depth) replaced by any value, or removed. */
export const fieldEdit = fc.record({ path: fc.array(fc.nat(), { minLength: 1, maxLength: 3 }), value: fc.option(messageValue) });

export function applyFieldEdit(bytes: Uint8Array, edit: { path: number[]; value: unknown }): Uint8Array | undefined {
  let root: unknown;
  try {
    root = decode(bytes);
  } catch {
    return undefined;
  }
  let node = root;
  for (const [depth, step] of edit.path.entries()) {
    if (typeof node !== "object" || node === null || node instanceof Uint8Array) break;
    const keys = Object.keys(node);
    if (keys.length === 0) break;
    const key = keys[step % keys.length]!;
    const last = depth === edit.path.length - 1 || typeof (node as Record<string, unknown>)[key] !== "object";
    if (last) {
      if (edit.value === null && !Array.isArray(node)) delete (node as Record<string, unknown>)[key];
      else (node as Record<string, unknown>)[key] = edit.value;
      break;
    }
    node = (node as Record<string, unknown>)[key];
  }
  return encode(root);
}
