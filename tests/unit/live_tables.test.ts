/**
 * Anti-entropy summaries kept true as the store changes (lib/sync/live_tables.ts): whatever
 * is stored, overwritten, deleted, dropped or purged, before, during or after a walk, the
 * kept summaries equal those a new walk would build.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import type { PositionHalves } from "../../lib/ring/hash.ts";
import { Store } from "../../lib/store/store.ts";
import { type DigestTables, scanStore } from "../../lib/sync/antientropy.ts";
import type { SyncContext } from "../../lib/sync/context.ts";
import { LiveTables } from "../../lib/sync/live_tables.ts";

const SELF = "a";
const MEMBERS = ["a", "b", "c", "d", "e"];

/** A store, and a context whose pauses (timers, hand-offs) wait until the test lets them go. */
function setup() {
  let now = 1_000;
  const store = new Store(() => now);
  const paused: Array<() => void> = [];
  const ctx = {
    self: SELF,
    store,
    topology: { epoch: 1 },
    env: { clock: { now: () => now, monotonicMs: () => now, setTimeout: (fn: () => void) => paused.push(fn), clearTimeout: () => {} } },
    // Three owners of five by position: this node owns about three keys in five.
    owners: (h: PositionHalves) => [0, 1, 2].map((i) => MEMBERS[(h.high + i) % MEMBERS.length]!),
  } as unknown as SyncContext;
  return { store, ctx, paused, later: (ms: number) => (now += ms) };
}

type Op =
  | { kind: "put"; key: number; wall: number }
  | { kind: "delete"; key: number; wall: number }
  | { kind: "drop"; key: number }
  | { kind: "purge" };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant("put" as const), key: fc.nat(300), wall: fc.integer({ min: 1, max: 50 }) }),
  fc.record({ kind: fc.constant("delete" as const), key: fc.nat(300), wall: fc.integer({ min: 1, max: 50 }) }),
  fc.record({ kind: fc.constant("drop" as const), key: fc.nat(300) }),
  fc.constant({ kind: "purge" as const }),
);

function run(s: ReturnType<typeof setup>, o: Op): void {
  const key = `key-${"key" in o ? o.key : 0}`;
  const version = (wall: number) => ({ wall, logical: 0, node: MEMBERS[wall % MEMBERS.length]! });
  if (o.kind === "put") s.store.apply(key, { value: new TextEncoder().encode(`v${o.wall}`), contentType: "text/plain", version: version(o.wall), tombstone: false });
  else if (o.kind === "delete") s.store.apply(key, { value: new Uint8Array(0), contentType: "", version: version(o.wall), tombstone: true });
  else if (o.kind === "drop") {
    const held = s.store.get(key);
    if (held) s.store.dropIf(key, held.version);
  } else {
    s.later(1_000);
    s.store.purgeTombstones(1_500);
  }
}

/** Each peer's non-empty buckets: what a peer compares. */
const summaries = (t: DigestTables) => Object.fromEntries(MEMBERS.filter((m) => m !== SELF).map((m) => [m, t.byPeer.get(m)?.summaries() ?? []]));

/** Runs the walk to its end, letting `ops` happen a few at a time at each of its pauses. */
async function walkAmid(s: ReturnType<typeof setup>, live: LiveTables, ops: Op[], perPause: number): Promise<void> {
  const done = live.walk(() => new Promise<void>((resolve) => s.paused.push(resolve)));
  let finished = false;
  void done.then(() => (finished = true));
  while (!finished) {
    for (let i = 0; i < 5; i++) await Promise.resolve();
    for (const o of ops.splice(0, perPause)) run(s, o);
    s.paused.shift()?.();
  }
  await done;
}

test("kept summaries equal a new walk's, whatever changed before, during and after the walk", async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(op, { maxLength: 200 }), fc.array(op, { maxLength: 200 }), fc.array(op, { maxLength: 100 }), fc.integer({ min: 1, max: 8 }), async (before, during, after, perPause) => {
      const s = setup();
      for (const o of before) run(s, o);
      const live = new LiveTables(s.ctx);
      s.store.listener = live;
      await walkAmid(s, live, [...during], perPause);
      for (const o of after) run(s, o);
      const kept = live.tables!;
      assert.equal(kept.changes, s.store.changes, "every change counted is in the kept summaries");
      const fresh = scanStore(s.ctx, () => Promise.resolve());
      while (s.paused.length > 0) s.paused.shift()!();
      assert.deepEqual(summaries(kept), summaries((await fresh).tables));
    }),
    { numRuns: 150 },
  );
});

test("a key that turns up not owned here makes the kept summaries say a walk is due", async () => {
  const s = setup();
  const live = new LiveTables(s.ctx);
  s.store.listener = live;
  await walkAmid(s, live, [], 1);
  assert.equal(live.tables!.unowned, 0);
  // Keys until one is not this node's (about two in five are not): summaries cannot hand it off, a walk can.
  for (let i = 0; i < 50 && live.tables!.unowned === 0; i++) run(s, { kind: "put", key: i, wall: 1 });
  assert.equal(live.tables!.unowned, 1);
});
