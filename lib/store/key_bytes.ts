/**
 * Keys as the store holds them: UTF-8 bytes in its slabs, not strings on the heap.
 *
 * Listings order keys as JavaScript compares strings (UTF-16 code units), everywhere from
 * this store to the coordinator merging pages. UTF-8 byte order is code point order, which
 * agrees with that except for U+E000..U+FFFF: UTF-16 puts them after the supplementary
 * planes (their surrogates are U+D800..U+DFFF). `compareKeyBytes` moves their lead bytes
 * (0xEE, 0xEF) past the 4-byte leads (0xF0..0xF4) to match. Keys are well-formed: they
 * come percent-decoded from a URL, or UTF-8-decoded off the wire.
 */

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** UTF-8 length without allocating for the common all-ASCII key. */
export function keyBytes(key: string): number {
  for (let i = 0; i < key.length; i++) {
    if (key.charCodeAt(i) > 0x7f) return encoder.encode(key).byteLength;
  }
  return key.length;
}

/** A reusable buffer a key is encoded into for one lookup: no allocation per request. */
export class KeyScratch {
  bytes = new Uint8Array(256);

  /** Encodes `key` into `bytes`; returns its length. */
  encode(key: string): number {
    const n = key.length;
    if (n * 3 > this.bytes.length) this.bytes = new Uint8Array(n * 3);
    const bytes = this.bytes;
    for (let i = 0; i < n; i++) {
      const c = key.charCodeAt(i);
      if (c > 0x7f) return encoder.encodeInto(key, bytes).written;
      bytes[i] = c;
    }
    return n;
  }
}

/** FNV-1a over `len` bytes from `off`: the store's index hash (not the ring's). */
export function hashKeyBytes(bytes: Uint8Array, off: number, len: number): number {
  let h = 0x811c9dc5;
  for (let i = off; i < off + len; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
  return h >>> 0;
}

/** A lead byte's rank in UTF-16 order: U+E000..U+FFFF's leads go after the 4-byte ones. */
const rank = (b: number): number => (b === 0xee || b === 0xef ? b + 8 : b);

/** Orders two UTF-8 keys as their strings compare in JavaScript. */
export function compareKeyBytes(a: Uint8Array, aOff: number, aLen: number, b: Uint8Array, bOff: number, bLen: number): number {
  const n = aLen < bLen ? aLen : bLen;
  for (let i = 0; i < n; i++) {
    const x = a[aOff + i]!;
    const y = b[bOff + i]!;
    // Equal bytes so far are equal characters, so both differing bytes start a character or
    // both continue one of the same length; only leads need ranking.
    if (x !== y) return rank(x) - rank(y);
  }
  return aLen - bLen;
}

/** Whether the key at `off` starts with `prefix`. */
export function hasPrefix(bytes: Uint8Array, off: number, len: number, prefix: Uint8Array): boolean {
  if (len < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (bytes[off + i] !== prefix[i]) return false;
  return true;
}

/** The key held in `len` bytes from `off`, as a string: ASCII through char codes, the fastest way on all three runtimes. */
export function decodeKeyBytes(bytes: Uint8Array, off: number, len: number): string {
  if (len > 64) return decoder.decode(bytes.subarray(off, off + len));
  const codes = new Array<number>(len);
  for (let i = 0; i < len; i++) {
    const b = bytes[off + i]!;
    if (b >= 0x80) return decoder.decode(bytes.subarray(off, off + len));
    codes[i] = b;
  }
  return String.fromCharCode.apply(null, codes);
}

export const utf8 = (key: string): Uint8Array => encoder.encode(key);
