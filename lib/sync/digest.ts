/**
 * Anti-entropy digests: the ring's 64-bit space cut into fixed buckets by the top bits of
 * a key's position, each summarised by two 32-bit hashes of its (key, version) pairs and a
 * count. Two replicas that hold the same versions of the same keys in a bucket have equal
 * summaries whatever the order they stored them in; a different summary names a bucket
 * whose keys are worth listing. Fixed buckets (not ring ranges) keep summaries comparable
 * between nodes whose rings briefly disagree.
 */
import { fmix32, murmur3 } from "../ring/hash.ts";
import type { Version } from "../store/version.ts";
import { BUCKET_BITS, BUCKETS, type BucketSummary } from "../wire/sync.ts";

export { BUCKET_BITS, BUCKETS, type BucketSummary };

/** A position's bucket: the top BUCKET_BITS of its high 32 bits. */
export function bucketOf(high: number): number {
  return high >>> (32 - BUCKET_BITS);
}

const encoder = new TextEncoder();
const nodeHashes = new Map<string, number>();
/** The last node hashed: most keys in a row were written by the same few nodes. */
let last = { node: "", hash: 0 };

/** A version's node id hashed once: there are few of them. */
function nodeHash(node: string): number {
  if (node === last.node) return last.hash;
  let h = nodeHashes.get(node);
  if (h === undefined) {
    if (nodeHashes.size > 10_000) nodeHashes.clear();
    h = murmur3(encoder.encode(node), 0x2f693b52);
    nodeHashes.set(node, h);
  }
  last = { node, hash: h };
  return h;
}

/** Mixes a key's hash with its version into one well-spread 32-bit value (murmur3's finaliser). */
function mix(keyHash: number, version: Version, salt: number): number {
  let h = (keyHash ^ salt) >>> 0;
  h = mixStamp(h, version);
  // A conditional write's version differs from the one it was built on only here.
  if (version.step) h = mixStamp(mixPart(h, version.step), version.ballot!);
  return fmix32(h);
}

function mixStamp(h: number, stamp: { wall: number; logical: number; node: string }): number {
  h = mixPart(h, stamp.wall % 0x1_0000_0000);
  h = mixPart(h, Math.floor(stamp.wall / 0x1_0000_0000));
  h = mixPart(h, stamp.logical);
  return mixPart(h, nodeHash(stamp.node));
}

function mixPart(h: number, part: number): number {
  h = Math.imul(h ^ part, 0xcc9e2d51);
  h = (h << 15) | (h >>> 17);
  return Math.imul(h, 0x1b873593);
}

/** Summaries of every bucket, built one entry at a time. */
export class BucketDigests {
  readonly #sum = new Uint32Array(BUCKETS);
  readonly #xor = new Uint32Array(BUCKETS);
  readonly #count = new Uint32Array(BUCKETS);

  add(bucket: number, keyHash: number, version: Version): void {
    this.#sum[bucket] = (this.#sum[bucket]! + mix(keyHash, version, 0x7a3f0c11)) >>> 0;
    this.#xor[bucket] = (this.#xor[bucket]! ^ mix(keyHash, version, 0x1d8e4e27)) >>> 0;
    this.#count[bucket]!++;
  }

  /** Takes back what `add` put in for this (key, version): the summaries are as if it never had been. */
  remove(bucket: number, keyHash: number, version: Version): void {
    this.#sum[bucket] = (this.#sum[bucket]! - mix(keyHash, version, 0x7a3f0c11)) >>> 0;
    this.#xor[bucket] = (this.#xor[bucket]! ^ mix(keyHash, version, 0x1d8e4e27)) >>> 0;
    this.#count[bucket]!--;
  }

  /** The non-empty buckets. */
  summaries(): BucketSummary[] {
    const out: BucketSummary[] = [];
    for (let b = 0; b < BUCKETS; b++) {
      if (this.#count[b] !== 0) out.push([b, this.#sum[b]!, this.#xor[b]!, this.#count[b]!]);
    }
    return out;
  }

  /**
   * The buckets where `theirs` (a peer's summaries) differs from this one, each with this
   * side's count (0: this side has none of the bucket, so the peer may send it all unasked).
   */
  differences(theirs: readonly BucketSummary[]): Array<[bucket: number, count: number]> {
    const out: Array<[number, number]> = [];
    for (const [b, sum, xor, count] of theirs) {
      if (this.#sum[b] !== sum || this.#xor[b] !== xor || this.#count[b] !== count) out.push([b, this.#count[b]!]);
    }
    return out;
  }
}
