import { test } from "node:test";
import assert from "node:assert/strict";
import { MemberEvents, RECENT_EVENTS, recordRingChange } from "../../lib/explain/events.ts";

test("member events are bounded: a ring buffer per member, the least recently touched member forgotten, a short recent log", () => {
  let now = 0;
  const events = new MemberEvents({ now: () => now++ }, 3, 2);
  for (let i = 0; i < 5; i++) events.record("a", "probe failed", { by: "x", n: i });
  assert.deepEqual(events.of("a").map((e) => e.n), [2, 3, 4], "the newest three");
  events.record("b", "suspected");
  events.record("a", "dead");
  events.record("c", "joined");
  assert.deepEqual(events.of("b"), [], "b was touched least recently, and only two members are kept");
  assert.deepEqual(events.of("a").map((e) => e.event), ["probe failed", "probe failed", "dead"]);
  for (let i = 0; i < RECENT_EVENTS + 10; i++) events.record("d", "alive");
  assert.equal(events.recent().length, RECENT_EVENTS);
  const last = events.recent().at(-1)!;
  assert.deepEqual(events.recent(last.at), []);
  assert.equal(last.id, "d");
});

test("ring changes become 'added to ring' and 'removed from ring' events with the epoch", () => {
  const events = new MemberEvents({ now: () => 1 });
  recordRingChange(events, { epoch: 7, members: [{ id: "a" }, { id: "c" }] }, { members: [{ id: "a" }, { id: "b" }] });
  assert.deepEqual(events.of("c"), [{ at: 1, event: "added to ring", epoch: 7 }]);
  assert.deepEqual(events.of("b"), [{ at: 1, event: "removed from ring", epoch: 7 }]);
  assert.deepEqual(events.of("a"), []);
});
