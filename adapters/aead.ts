/**
 * AES-GCM for the cluster keyring (lib/peer/keyring.ts) through `node:crypto`, which Node,
 * Bun and Deno all provide: the same cipher and bytes as crypto.subtle (ciphertext, then
 * the 16-byte tag; the key id the first 4 bytes of the key's SHA-256), but answered on the
 * calling thread. crypto.subtle hands every message to another thread and back, which
 * cost a 3-node cluster a third of its throughput (docs/benchmarks.md).
 */
import { createCipheriv, createDecipheriv, createHash } from "node:crypto";
import { type Aead, ID_BYTES } from "../lib/peer/keyring.ts";

const cipherOf = (key: Uint8Array) => (key.byteLength === 16 ? "aes-128-gcm" : "aes-256-gcm");
const bytes = (b: Buffer) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);

export const nodeCryptoAead: Aead = {
  importKey: (raw) => Promise.resolve({ id: bytes(createHash("sha256").update(raw).digest()).slice(0, ID_BYTES), key: Uint8Array.from(raw) }),
  encrypt(key, nonce, aad, plain) {
    const cipher = createCipheriv(cipherOf(key as Uint8Array), key as Uint8Array, nonce);
    cipher.setAAD(aad);
    return Promise.resolve(bytes(Buffer.concat([cipher.update(plain), cipher.final(), cipher.getAuthTag()])));
  },
  decrypt(key, nonce, aad, sealed) {
    try {
      const decipher = createDecipheriv(cipherOf(key as Uint8Array), key as Uint8Array, nonce);
      decipher.setAAD(aad);
      decipher.setAuthTag(sealed.subarray(sealed.byteLength - 16));
      return Promise.resolve(bytes(Buffer.concat([decipher.update(sealed.subarray(0, sealed.byteLength - 16)), decipher.final()])));
    } catch (err) {
      return Promise.reject(err);
    }
  },
};
