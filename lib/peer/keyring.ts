/**
 * The cluster keyring (`DHT_CLUSTER_KEY`, `--cluster-key-file`): AES-GCM, through
 * crypto.subtle unless the caller gives another `Aead` (the adapters give node:crypto's,
 * the simulator a stand-in). The first key seals what this node sends; any key of the ring opens what
 * it receives, so keys rotate without downtime (add a key everywhere, make it first
 * everywhere, drop the old one), as Serf's `keys -install/-use/-remove`.
 *
 * A sealed body is the byte 0xc1 (no MessagePack value starts with it), the sealing key's
 * id (the first 4 bytes of its SHA-256), a 12-byte nonce and the ciphertext with its
 * 16-byte tag. Nonces are a random prefix drawn once per keyring and a counter, so one
 * never repeats under a key (NIST SP 800-38D's deterministic construction). The associated
 * data, given by the caller, binds the cluster name and the path (and which way the
 * message goes) to it: a sealed message moved to another path or cluster does not open.
 */
const MARK = 0xc1;
export const ID_BYTES = 4;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
/** Bytes a sealed body adds to the message. */
export const SEAL_OVERHEAD = 1 + ID_BYTES + NONCE_BYTES + TAG_BYTES;

/** A message that does not open under any key of this node's ring (or is not sealed, or is sealed for a keyless node): 401. */
export class SealError extends Error {
  override name = "SealError";
}

/**
 * The cipher under the keyring: AES-GCM. crypto.subtle's (`webCryptoAead`) answers on the
 * runtime's own threads, which costs a round of the event loop per message, and lands
 * outside the simulator's virtual time; the adapters give node:crypto's
 * (adapters/aead.ts), the simulator a stand-in whose promises settle at once
 * (tests/support/aead.ts).
 */
export interface Aead {
  /** A raw key made ready to use, and its id (`ID_BYTES` bytes that do not give it away). */
  importKey(raw: Uint8Array): Promise<{ id: Uint8Array; key: unknown }>;
  encrypt(key: unknown, nonce: Uint8Array, aad: Uint8Array, plain: Uint8Array): Promise<Uint8Array>;
  /** Rejects when the ciphertext, its tag or the associated data were altered, or the key is another. */
  decrypt(key: unknown, nonce: Uint8Array, aad: Uint8Array, sealed: Uint8Array): Promise<Uint8Array>;
}

export const webCryptoAead: Aead = {
  async importKey(raw) {
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", raw as Uint8Array<ArrayBuffer>));
    return { id: digest.slice(0, ID_BYTES), key: await crypto.subtle.importKey("raw", raw as Uint8Array<ArrayBuffer>, "AES-GCM", false, ["encrypt", "decrypt"]) };
  },
  async encrypt(key, nonce, aad, plain) {
    return new Uint8Array(await crypto.subtle.encrypt({ name: "AES-GCM", iv: nonce as Uint8Array<ArrayBuffer>, additionalData: aad as Uint8Array<ArrayBuffer> }, key as CryptoKey, plain as Uint8Array<ArrayBuffer>));
  },
  async decrypt(key, nonce, aad, sealed) {
    return new Uint8Array(await crypto.subtle.decrypt({ name: "AES-GCM", iv: nonce as Uint8Array<ArrayBuffer>, additionalData: aad as Uint8Array<ArrayBuffer> }, key as CryptoKey, sealed as Uint8Array<ArrayBuffer>));
  },
};

interface RingKey {
  id: Uint8Array;
  key: unknown;
}

export class Keyring {
  #counter = 0n;

  private constructor(private readonly keys: readonly RingKey[], private readonly prefix: Uint8Array, private readonly aead: Aead) {}

  /** Imports raw keys of 16 or 32 bytes, the first the one that seals. */
  static async of(raw: readonly Uint8Array[], aead: Aead = webCryptoAead): Promise<Keyring> {
    if (raw.length === 0) throw new RangeError("a keyring holds at least one key");
    const keys = await Promise.all(raw.map((bytes) => {
      if (bytes.byteLength !== 16 && bytes.byteLength !== 32) throw new RangeError("a cluster key is 16 or 32 bytes");
      return aead.importKey(bytes);
    }));
    return new Keyring(keys, crypto.getRandomValues(new Uint8Array(4)), aead);
  }

  get size(): number {
    return this.keys.length;
  }

  /** The ids of the keys, first the sealing one (hex), for operators: never the keys. */
  ids(): string[] {
    return this.keys.map((k) => [...k.id].map((b) => b.toString(16).padStart(2, "0")).join(""));
  }

  async seal(aad: Uint8Array, plain: Uint8Array): Promise<Uint8Array<ArrayBuffer>> {
    const { id, key } = this.keys[0]!;
    const nonce = new Uint8Array(NONCE_BYTES);
    nonce.set(this.prefix, 0);
    new DataView(nonce.buffer).setBigUint64(4, this.#counter++);
    const sealed = await this.aead.encrypt(key, nonce, aad, plain);
    const out = new Uint8Array(1 + ID_BYTES + NONCE_BYTES + sealed.byteLength);
    out[0] = MARK;
    out.set(id, 1);
    out.set(nonce, 1 + ID_BYTES);
    out.set(sealed, 1 + ID_BYTES + NONCE_BYTES);
    return out;
  }

  /** The message inside `bytes`; a SealError unless a key of this ring sealed it with this associated data, untouched. */
  async open(aad: Uint8Array, bytes: Uint8Array): Promise<Uint8Array> {
    if (!isSealed(bytes) || bytes.byteLength < SEAL_OVERHEAD) throw new SealError("the message is not sealed, and this node takes only sealed messages (set the cluster key on the sender)");
    const id = bytes.subarray(1, 1 + ID_BYTES);
    const match = this.keys.find((k) => k.id.every((b, i) => b === id[i]));
    if (!match) throw new SealError("the message is sealed with a key this node does not hold");
    const nonce = bytes.slice(1 + ID_BYTES, 1 + ID_BYTES + NONCE_BYTES);
    try {
      return await this.aead.decrypt(match.key, nonce, aad, bytes.subarray(1 + ID_BYTES + NONCE_BYTES));
    } catch {
      throw new SealError("the message does not open: altered, or sealed for another path or cluster");
    }
  }
}

/** Whether a body is sealed (it may still not open). */
export const isSealed = (bytes: Uint8Array) => bytes.byteLength > 0 && bytes[0] === MARK;

/**
 * Keys as an operator writes them: base64, comma-separated (spaces and newlines around
 * them ignored), each 16 or 32 bytes. The keys, or what is wrong with the text.
 */
export function parseClusterKeys(text: string): Uint8Array[] | string {
  const parts = text.split(",").map((p) => p.trim()).filter((p) => p !== "");
  if (parts.length === 0) return "no key in it (base64 keys of 16 or 32 bytes, comma-separated)";
  const keys: Uint8Array[] = [];
  for (const [i, part] of parts.entries()) {
    let bytes: Uint8Array;
    try {
      bytes = Uint8Array.from(atob(part), (c) => c.charCodeAt(0));
    } catch {
      return `key ${i + 1} is not base64`;
    }
    if (bytes.byteLength !== 16 && bytes.byteLength !== 32) return `key ${i + 1} is ${bytes.byteLength} bytes; a key is 16 or 32 (openssl rand -base64 32)`;
    keys.push(bytes);
  }
  return keys;
}
