/**
 * A stand-in for AES-GCM in the simulator (lib/peer/keyring.ts, `Aead`): its promises
 * settle at once, where crypto.subtle answers on the runtime's own threads, outside
 * virtual time. Not a cipher: it keeps what the protocol relies on (another key, altered
 * bytes or other associated data do not open) and nothing a secret needs.
 */
import { type Aead, ID_BYTES } from "../../lib/peer/keyring.ts";

/** FNV-1a over the parts, stretched to 16 bytes: the stand-in's tag. */
function tag(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(16);
  let h = 0x811c9dc5;
  for (let round = 0; round < 4; round++) {
    for (const part of parts) for (const b of part) h = Math.imul(h ^ b, 0x01000193) >>> 0;
    new DataView(out.buffer).setUint32(round * 4, h);
  }
  return out;
}

const xor = (data: Uint8Array, key: Uint8Array) => data.map((b, i) => b ^ key[i % key.byteLength]!);

export const simAead: Aead = {
  importKey: (raw) => Promise.resolve({ id: tag(raw).slice(0, ID_BYTES), key: raw }),
  encrypt(key, nonce, aad, plain) {
    const body = xor(plain, key as Uint8Array);
    const out = new Uint8Array(body.byteLength + 16);
    out.set(body, 0);
    out.set(tag(key as Uint8Array, nonce, aad, body), body.byteLength);
    return Promise.resolve(out);
  },
  decrypt(key, nonce, aad, sealed) {
    const body = sealed.subarray(0, sealed.byteLength - 16);
    const expected = tag(key as Uint8Array, nonce, aad, body);
    if (!expected.every((b, i) => b === sealed[body.byteLength + i])) return Promise.reject(new Error("does not open"));
    return Promise.resolve(xor(body, key as Uint8Array));
  },
};
