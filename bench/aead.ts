/**
 * What sealing costs one message: the keyring's seal and open (AES-GCM through the
 * adapters' node:crypto, as a node runs them) for 100 B, 1 KB and 10 KB bodies, in µs.
 *
 *   npx tsx bench/aead.ts    bun run bench/aead.ts    deno run -A bench/aead.ts
 */
import { nodeCryptoAead } from "../adapters/aead.ts";
import { Keyring } from "../lib/peer/keyring.ts";

const ring = await Keyring.of([new Uint8Array(32).fill(1)], nodeCryptoAead);
const aad = new Uint8Array(20).fill(3);
const N = 100_000;
for (const size of [100, 1000, 10_000]) {
  const plain = new Uint8Array(size).fill(7);
  let sealed = await ring.seal(aad, plain);
  let started = performance.now();
  for (let i = 0; i < N; i++) sealed = await ring.seal(aad, plain);
  const sealUs = ((performance.now() - started) * 1000) / N;
  started = performance.now();
  for (let i = 0; i < N; i++) await ring.open(aad, sealed);
  const openUs = ((performance.now() - started) * 1000) / N;
  console.log(`${size} B: seal ${sealUs.toFixed(2)} µs, open ${openUs.toFixed(2)} µs`);
}
