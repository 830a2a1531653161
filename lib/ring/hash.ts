/**
 * Ring positions: 64 bits made of two MurmurHash3 (x86, 32-bit) digests of the text's UTF-8
 * bytes, under two seeds. The same function places keys and virtual nodes, on every runtime.
 *
 * Synchronous on purpose: the coordinator places a key on every request, and rebalancing
 * places every stored key on every pass, without a round trip through crypto.subtle's
 * promise (a thread-pool hop on Node); and the simulator stays deterministic. Placement
 * needs an even spread, not a cryptographic hash: a client choosing keys can pile them on
 * one member either way, since the ring is public (`/cluster/locate`).
 */
import { KeyScratch } from "../store/key_bytes.ts";

const SEED_HIGH = 0x9747b28c;
const SEED_LOW = 0x5bd1e995;

/** Reused for every key: placing a million stored keys allocates nothing per key. */
const scratch = new KeyScratch();
/** Reused the same way for the two halves of a stored key's position being joined. */
const halves: PositionHalves = { high: 0, low: 0 };
/** Reused by `ringHalves` (and so `ringPosition`) for a key given as text. */
const keyHalves: PositionHalves = { high: 0, low: 0 };

/** The text's position on the ring, an unsigned 64-bit integer. */
export function ringPosition(text: string): bigint {
  return joinHalves(ringHalves(text));
}

/** The position of the text whose UTF-8 is the `n` bytes of `bytes` from `from` (a stored key, read where it lies). */
export function ringPositionOfBytes(bytes: Uint8Array, from: number, n: number): bigint {
  return joinHalves(positionHalvesOfBytes(bytes, from, n, halves));
}

/**
 * The text's position as halves, in one object every call reuses: read it before the next
 * call. A coordinator places each request's key this way, without making a bigint.
 */
export function ringHalves(text: string): PositionHalves {
  const n = scratch.encode(text); // first: it may replace scratch.bytes with a larger buffer
  return positionHalvesOfBytes(scratch.bytes, 0, n, keyHalves);
}

/** A ring position as its two unsigned 32-bit halves: for callers that want its top bits or its low word as numbers. */
export interface PositionHalves {
  high: number;
  low: number;
}

/** `ringPositionOfBytes`, into `out` as halves: no bigint is made. */
export function positionHalvesOfBytes(bytes: Uint8Array, from: number, n: number, out: PositionHalves): PositionHalves {
  out.high = murmur3(bytes, SEED_HIGH, n, from);
  out.low = murmur3(bytes, SEED_LOW, n, from);
  return out;
}

/** Reads positions of stored keys (Store.readKey) into one object, reused key after key: a scan allocates nothing per key. */
export function halvesReader(): (bytes: Uint8Array, from: number, n: number) => PositionHalves {
  const own: PositionHalves = { high: 0, low: 0 };
  return (bytes, from, n) => positionHalvesOfBytes(bytes, from, n, own);
}

export function joinHalves(halves: PositionHalves): bigint {
  return (BigInt(halves.high) << 32n) | BigInt(halves.low);
}

/** MurmurHash3_x86_32 (Austin Appleby, public domain) over the `n` bytes from `from`. */
export function murmur3(bytes: Uint8Array, seed: number, n = bytes.length, from = 0): number {
  const tail = from + (n & ~3);
  let h = seed >>> 0;
  for (let i = from; i < tail; i += 4) {
    let k = bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24);
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  let k = 0;
  switch (n & 3) {
    case 3:
      k ^= bytes[tail + 2]! << 16;
    // falls through
    case 2:
      k ^= bytes[tail + 1]! << 8;
    // falls through
    case 1:
      k ^= bytes[tail]!;
      k = Math.imul(k, 0xcc9e2d51);
      k = (k << 15) | (k >>> 17);
      k = Math.imul(k, 0x1b873593);
      h ^= k;
  }
  return fmix32(h ^ n);
}

/** Murmur3's finaliser: every input bit affects every output bit. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A virtual node's name: the member id and the vnode's index. */
export function vnodeName(member: string, index: number): string {
  return `${member}#${index}`;
}

/** Positions are a pure function of (member, count), memoized: a member that comes back costs nothing. */
const memo = new Map<string, readonly bigint[]>();
const MEMO_LIMIT = 50_000;

/** The positions of a member's `count` virtual nodes. */
export function vnodePositions(member: string, count: number): readonly bigint[] {
  const key = `${count} ${member}`;
  let positions = memo.get(key);
  if (!positions) {
    if (memo.size >= MEMO_LIMIT) memo.clear();
    positions = Array.from({ length: count }, (_, i) => ringPosition(vnodeName(member, i)));
    memo.set(key, positions);
  }
  return positions;
}

/** Fixed-width hex: sorts like the number, and reads well in JSON. */
export function positionHex(position: bigint): string {
  return position.toString(16).padStart(16, "0");
}
