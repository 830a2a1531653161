/**
 * Memory per stored key: RSS before and after putting 1,000,000 keys of 100 bytes into a
 * node's store the way the replica path does (one value buffer per key, an HLC version per
 * entry), and the same again after a full stabilisation-style pass over it.
 *
 *   node --expose-gc --import tsx bench/store_memory.ts [keys=1000000]
 *   bun bench/store_memory.ts
 *   deno run -A --v8-flags=--expose-gc bench/store_memory.ts
 */
import { Store } from "../lib/store/store.ts";
import { Hlc } from "../lib/store/version.ts";
import { joinHalves, type PositionHalves, positionHalvesOfBytes } from "../lib/ring/hash.ts";

declare const Bun: { gc(force: boolean): void } | undefined;
declare const Deno: { memoryUsage(): { rss: number } } | undefined;
const proc = (globalThis as { process?: { memoryUsage(): { rss: number }; argv: string[] } }).process;

const count = Number(proc?.argv[2] ?? 1_000_000);
const gc = () => (typeof Bun !== "undefined" ? Bun.gc(true) : (globalThis as { gc?: () => void }).gc?.());
const rss = () => {
  gc();
  return typeof Deno !== "undefined" ? Deno.memoryUsage().rss : proc!.memoryUsage().rss;
};
const runtime = typeof Bun !== "undefined" ? "bun" : typeof Deno !== "undefined" ? "deno" : "node";

const before = rss();
const store = new Store(() => Date.now());
const hlc = new Hlc("127.0.0.1:8000", () => Date.now());
for (let i = 0; i < count; i++) {
  const value = new Uint8Array(100).fill(i & 0xff);
  store.apply(`key-${i}`, { value, contentType: "application/octet-stream", version: hlc.next(), tombstone: false });
}
const filled = rss();
// Placement as a stabilisation scan does it (lib/sync/antientropy.ts): each key's position
// from its bytes where the store keeps them, and its version.
let sum = 0n;
const halves: PositionHalves = { high: 0, low: 0 };
const place = (bytes: Uint8Array, from: number, n: number) => positionHalvesOfBytes(bytes, from, n, halves);
const started = Date.now();
for (const slot of store.slots()) {
  store.readKey(slot, place);
  sum ^= joinHalves(halves) ^ BigInt(store.versionAt(slot).logical);
}
const passMs = Date.now() - started;
const after = rss();
const mb = (n: number) => (n / 1024 / 1024).toFixed(0);
console.log(`${runtime}: ${count} keys of 100 bytes: RSS ${mb(before)} → ${mb(filled)} MiB, ${((filled - before) / count).toFixed(0)} bytes per key; one placement pass over every key ${passMs} ms (RSS after ${mb(after)} MiB, ${store.size} keys)${sum === 1n ? "" : ""}`);
