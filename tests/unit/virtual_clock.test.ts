/** The simulator's virtual clock (lib/sim/clock.ts): timers in deadline order, and time that only moves forward. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { VirtualClock } from "../../lib/sim/clock.ts";

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

test("timers run in deadline order, ties in the order they were set, each at its own deadline", () => {
  const clock = new VirtualClock(0);
  const ran: Array<[string, number]> = [];
  for (const [name, ms] of [["b", 20], ["a", 10], ["c", 20], ["d", 5]] as const) clock.setTimeout(() => ran.push([name, clock.now()]), ms);
  const cleared = clock.setTimeout(() => ran.push(["cleared", clock.now()]), 1);
  clock.clearTimeout(cleared);
  clock.advance(15);
  assert.deepEqual(ran, [["d", 5], ["a", 10]]);
  assert.equal(clock.now(), 15);
  clock.advance(10);
  assert.deepEqual(ran.slice(2), [["b", 20], ["c", 20]]);
});

test("overlapping runs (a request's steps beside a test's own run) never take time backwards", async () => {
  const clock = new VirtualClock(0);
  const seen: number[] = [];
  const tick = () => {
    seen.push(clock.now());
    clock.setTimeout(tick, 10);
  };
  clock.setTimeout(tick, 10);
  // A step of 5 ms that starts first and ends last, while a run of 250 ms goes on.
  let stepping = true;
  const steps = (async () => {
    while (stepping) await clock.run(5, settle);
  })();
  await clock.run(250, settle);
  const afterLong = clock.now();
  stepping = false;
  await steps;
  assert.ok(afterLong >= 250, `the long run reached its end: ${afterLong}`);
  assert.ok(clock.now() >= afterLong, `a step that ended after it set the clock back to ${clock.now()}`);
  assert.deepEqual(seen, [...seen].sort((a, b) => a - b), "timers saw time in order");
});
