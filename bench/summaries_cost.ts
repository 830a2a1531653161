/**
 * What keeping anti-entropy's summaries true costs a write (lib/sync/live_tables.ts): ns per
 * `store.apply` overwriting one of 100,000 keys (100-byte values), without the store's
 * listener and with it, on a node that shares every key with two others (a real 3-member
 * layout, 128 vnodes each). Three runs of each, alternating.
 *
 *   npx tsx bench/summaries_cost.ts        bun bench/summaries_cost.ts        deno run -A bench/summaries_cost.ts
 */
import { Store } from "../lib/store/store.ts";
import type { SyncContext } from "../lib/sync/context.ts";
import { LiveTables } from "../lib/sync/live_tables.ts";
import { Layout } from "../lib/topology/placement.ts";
import type { TopologyState } from "../lib/topology/state.ts";

const KEYS = 100_000;
const ROUNDS = 5;
const members = ["127.0.0.1:9000", "127.0.0.1:9001", "127.0.0.1:9002"].map((id) => ({ id, nonce: "n" }));
const state: TopologyState = { cluster: "bench", epoch: 1, phase: "stable", members, next: [], removed: [], pins: [], recoveries: [] };
const layout = new Layout(state, 128, 3);
const value = new Uint8Array(100).fill(118);
const keys = Array.from({ length: KEYS }, (_, i) => `key:${i}:${(i * 2654435761) >>> 0}`);

async function nsPerApply(listening: boolean): Promise<number> {
  const store = new Store(() => 0);
  let wall = 1;
  const write = (key: string) => store.apply(key, { value, contentType: "text/plain", version: { wall: wall++, logical: 0, node: "w" }, tombstone: false });
  for (const key of keys) write(key);
  if (listening) {
    const ctx = {
      self: members[0]!.id,
      store,
      topology: { epoch: 1, layout },
      env: { clock: { setTimeout: (fn: () => void, ms: number) => setTimeout(fn, ms), monotonicMs: () => performance.now() } },
      owners: (halves: Parameters<Layout["holdersOfHalves"]>[0]) => layout.holdersOfHalves(halves),
    } as unknown as SyncContext;
    const live = new LiveTables(ctx);
    store.listener = live;
    await live.walk(() => Promise.resolve());
  }
  const start = performance.now();
  for (let r = 0; r < ROUNDS; r++) for (const key of keys) write(key);
  return ((performance.now() - start) * 1e6) / (ROUNDS * KEYS);
}

for (let i = 0; i < 3; i++) {
  const without = await nsPerApply(false);
  const withListener = await nsPerApply(true);
  console.log(`store.apply, overwriting: ${without.toFixed(0)} ns without the listener, ${withListener.toFixed(0)} ns with it`);
}
