/** Catching up with a later epoch: whom a node fetches it from, and what a lost fetch costs. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { CatchUp } from "../../lib/topology/catch_up.ts";
import { VirtualClock } from "../../lib/sim/clock.ts";
import { settle } from "../support/sim.ts";

/** Peers that hold `epochs[peer]` and answer a fetch after `delays[peer]` ms (never, if absent). */
function world(epochs: Record<string, number>, delays: Record<string, number>, owners: string[] = []) {
  const clock = new VirtualClock();
  const asked: { peer: string; at: number }[] = [];
  let held = 1;
  const catchUp = new CatchUp({
    clock,
    epoch: () => held,
    owners: () => owners,
    fetch: (peer) => {
      asked.push({ peer, at: clock.now() });
      const delay = delays[peer];
      if (delay === undefined) return new Promise(() => {}); // lost, and the timeout is the caller's
      return new Promise((resolve) => clock.setTimeout(() => resolve((held = Math.max(held, epochs[peer] ?? 0))), delay));
    },
  });
  return { clock, asked, catchUp, held: () => held, start: clock.now() };
}

test("a chase fetches from whoever named the latest epoch, then from owners", async () => {
  const w = world({ a: 3, b: 5, o: 5 }, { a: 5, b: 5, o: 5 }, ["o"]);
  void w.catchUp.chase(3, "a", 2_000);
  void w.catchUp.chase(5, "b", 2_000);
  await w.clock.run(100, settle);
  assert.equal(w.held(), 5);
  assert.deepEqual(w.asked.map((a) => a.peer), ["b"], "b named the later epoch: asked first, and enough");

  const alone = world({ o: 4 }, { o: 5 }, ["o"]);
  void alone.catchUp.chase(4, undefined, 2_000);
  await alone.clock.run(100, settle);
  assert.equal(alone.held(), 4, "nobody named: an owner is asked");
});

test("a fetch that goes unanswered does not hold the next one back a whole timeout", async () => {
  // "dead" named the epoch first and never answers (a lost message, or the very member the epoch removed).
  const w = world({ live: 7 }, { live: 5 }, []);
  let done = false;
  void w.catchUp.chase(7, "dead", 2_000).then(() => (done = true));
  void w.catchUp.chase(6, "live", 2_000);
  await w.clock.run(50, settle);
  assert.deepEqual(w.asked.map((a) => a.peer), ["dead"]);
  await w.clock.run(500, settle);
  assert.equal(w.held(), 7, "caught up from the next source");
  const next = w.asked.find((a) => a.peer === "live")!;
  assert.ok(next.at - w.start <= 250, `the next fetch started ${next.at - w.start} ms in, not after the first's timeout`);
  assert.ok(done, "the chase resolved once caught up");
});

test("a word that arrives mid-chase is the next source", async () => {
  const w = world({ slow: 2, late: 9 }, { slow: 50, late: 5 }, ["owner"]);
  void w.catchUp.chase(2, "slow", 2_000);
  await w.clock.run(10, settle);
  void w.catchUp.chase(9, "late", 2_000);
  await w.clock.run(200, settle);
  assert.equal(w.held(), 9);
  assert.deepEqual(w.asked.map((a) => a.peer), ["slow", "late"], "late asked next, no owner");
});
