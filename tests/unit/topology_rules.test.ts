/** The agreed ring's pure rules: epochs as data, placement per phase, the planner, Paxos. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { compareBallots, onAccept, onPrepare, valueToPropose } from "../../lib/topology/paxos.ts";
import { helloTargets } from "../../lib/topology/hellos.ts";
import { type Asking, gatheringJoiners, JOIN_GATHER_MAX_MS, JOIN_QUIET_MS } from "../../lib/topology/join_batch.ts";
import { Layout } from "../../lib/topology/placement.ts";
import { pinsFrom } from "../../lib/topology/pins.ts";
import { ringHalves, ringPosition } from "../../lib/ring/hash.ts";
import { type DriverView, nextStep } from "../../lib/topology/plan.ts";
import {
  acceptors,
  beginTransition,
  finishTransition,
  founding,
  lowestMembers,
  majority,
  memberKey,
  type MemberRef,
  readFromNew,
  stateChecksum,
  superseded,
  type TopologyState,
} from "../../lib/topology/state.ts";
import { DRIVER_TICK_MS, type LoopState, nextTickMs, SETTLED_TICK_MS } from "../../lib/topology/tick_pace.ts";

const ref = (id: string, nonce = "n"): MemberRef => ({ id, nonce });
const A = ref("a:1");
const B = ref("b:1");
const C = ref("c:1");
const D = ref("d:1");
const E = ref("e:1");
const quorum = { replicas: 3, writeQuorum: 2, readQuorum: 2 };
const stable = (...members: MemberRef[]): TopologyState => ({ cluster: "k", epoch: 5, phase: "stable", members, next: [], removed: [], pins: [], recoveries: [] });
const layout = (s: TopologyState) => new Layout(s, 8, 3);
const keys = (...refs: MemberRef[]) => new Set(refs.map(memberKey));
const streamedBy = (...refs: MemberRef[]) => new Map(refs.map((m) => [memberKey(m), new Set<string>()]));
const view = (v: Partial<DriverView>): DriverView => {
  const removable = v.removable ?? new Set<string>();
  return { removable, gone: removable, leaving: new Set(), joiners: [], fenced: new Set(), streamed: new Map(), now: 0, ...v };
};

test("a founding ring is epoch 1 with its founder alone; acceptors are old and new members, once each", () => {
  const f = founding(A);
  assert.deepEqual({ epoch: f.epoch, phase: f.phase, members: f.members, cluster: f.cluster }, { epoch: 1, phase: "stable", members: [A], cluster: "a:1#n" });
  const t = beginTransition(stable(A, B, C), [A, B, D]);
  assert.deepEqual(acceptors(t).map(memberKey), ["a:1#n", "b:1#n", "c:1#n", "d:1#n"]);
  assert.deepEqual([1, 2, 3, 4, 5].map(majority), [1, 2, 2, 3, 3]);
});

test("a transition runs stable → write_both_read_old → write_both_read_new → stable, one epoch each, and remembers who left", () => {
  const s0 = stable(A, B, C);
  const s1 = beginTransition(s0, [B, C, D]);
  const s2 = readFromNew(s1);
  const s3 = finishTransition(s2);
  assert.deepEqual([s1, s2, s3].map((s) => [s.epoch, s.phase]), [[6, "write_both_read_old"], [7, "write_both_read_new"], [8, "stable"]]);
  assert.deepEqual(s3.members, [B, C, D]);
  assert.deepEqual(s3.next, []);
  assert.deepEqual(s3.removed, ["a:1#n"]);
  assert.notEqual(stateChecksum(s1), stateChecksum(s2), "the phase is part of the value");
  assert.equal(stateChecksum(s2), stateChecksum({ ...s2 }), "equal values, equal checksums");
});

test("placement: reads and writes per phase, and a replaced process's old self as a ghost", () => {
  const s0 = stable(A, B, C, D);
  const s1 = beginTransition(s0, [A, B, C, D, E]);
  const position = 12345n;
  const p0 = layout(s0).placement(position);
  assert.deepEqual(p0.writes, [p0.read]);
  const l1 = layout(s1);
  const p1 = l1.placement(position);
  assert.deepEqual(p1.read, l1.oldOwners(position), "write_both_read_old reads the old owners");
  assert.ok(p1.writes.length === 1 || (p1.writes.length === 2 && p1.writes[1]!.includes("e:1")));
  const p2 = layout(readFromNew(s1)).placement(position);
  assert.deepEqual(p2.read, l1.newOwners(position), "write_both_read_new reads the new owners");
  // Some position moves to E; there the writes reach both sets.
  const moving = l1.arcEnds().find((p) => l1.changes(p))!;
  assert.equal(l1.placement(moving).writes.length, 2);
  assert.ok(l1.holders(moving).includes("e:1"));

  const restarted = ref("b:1", "m");
  const r = beginTransition(stable(A, B, C), [A, restarted, C]);
  assert.deepEqual([...superseded(r)], ["b:1"]);
  const pr = layout(r).placement(position);
  assert.ok(pr.read.includes("~b:1"), "the old process at b:1 counts toward N but never answers");
  assert.ok(pr.writes[1]!.includes("b:1"));
});

test("the planner: what each phase proposes, and what makes it wait", () => {
  const s0 = stable(A, B, C, D);
  const all = keys(A, B, C, D);
  const l0 = layout(s0);
  assert.equal(nextStep(l0, view({ fenced: all }), quorum).kind, "wait", "nothing to change");

  const join = nextStep(l0, view({ fenced: all, joiners: [E] }), quorum);
  assert.equal(join.kind, "propose");
  assert.deepEqual(join.kind === "propose" && join.value.next, [A, B, C, D, E]);

  const removal = nextStep(l0, view({ fenced: keys(A, B, C), removable: keys(D) }), quorum);
  assert.deepEqual(removal.kind === "propose" && removal.value.next, [A, B, C], "one member unfenced: every range still has two");

  assert.deepEqual((nextStep(l0, view({ fenced: all, leaving: new Set(["d:1"]) }), quorum) as { value: TopologyState }).value.next, [A, B, C]);
  assert.equal(nextStep(l0, view({ fenced: all, leaving: new Set(["a:1", "b:1", "c:1", "d:1"]) }), quorum).kind, "wait", "nobody would be left");
  const back = { ...s0, removed: [memberKey(E)] };
  assert.equal(nextStep(layout(back), view({ fenced: all, joiners: [E] }), quorum).kind, "wait", "a removed process is never added again");

  const s1 = beginTransition(s0, [A, B, C, D, E]);
  const l1 = layout(s1);
  const everyone = keys(A, B, C, D, E);
  assert.equal(nextStep(l1, view({ fenced: everyone, streamed: streamedBy(A) }), quorum).kind, "wait", "moving ranges not yet streamed by R old owners");
  const s2 = nextStep(l1, view({ fenced: everyone, streamed: streamedBy(A, B, C, D) }), quorum);
  assert.equal(s2.kind === "propose" && s2.value.phase, "write_both_read_new");
  const retarget = nextStep(l1, view({ fenced: keys(A, B, C, D), removable: keys(E) }), quorum);
  assert.deepEqual(retarget.kind === "propose" && [retarget.value.phase, retarget.value.next], ["write_both_read_old", [A, B, C, D]], "a new owner died: drop it and stream again");

  const done = nextStep(layout(readFromNew(s1)), view({ fenced: everyone }), quorum);
  assert.deepEqual(done.kind === "propose" && [done.value.phase, done.value.members], ["stable", [A, B, C, D, E]]);
});

test("Paxos acceptor: promises only rise, accepts at or above the promise, and a new proposer adopts what was accepted", () => {
  const b1 = { round: 1, by: "a:1#n" };
  const b2 = { round: 2, by: "a:1#n" };
  const b2b = { round: 2, by: "b:1#n" };
  assert.ok(compareBallots(b2b, b2) > 0 && compareBallots(b2, b1) > 0 && compareBallots(b1, undefined) > 0);
  const p1 = onPrepare({ instance: 6 }, b2);
  assert.deepEqual(p1.reply, { ok: true });
  assert.deepEqual(onPrepare(p1.state, b1).reply, { ok: false, promised: b2 }, "a lower ballot is refused");
  assert.deepEqual(onAccept(p1.state, b1, stable(A)).reply, { ok: false, promised: b2 });
  const value = beginTransition(stable(A, B), [A, B, C]);
  const a = onAccept(p1.state, b2, value);
  assert.deepEqual(a.reply, { ok: true });
  const later = onPrepare(a.state, b2b);
  assert.deepEqual(later.reply, { ok: true, accepted: { ballot: b2, value } });
  const own = beginTransition(stable(A, B), [A]);
  assert.equal(valueToPropose([{ ok: true }, later.reply], own), value, "the accepted value wins over our own");
  assert.equal(valueToPropose([{ ok: true }, { ok: true }], own), own);
});

test("the lowest acceptors: old and new members walked together in id order, each once, as many as asked", () => {
  const t = { ...stable(A, C, E), phase: "write_both_read_old" as const, next: [B, C, D] };
  const ids = (refs: MemberRef[]) => refs.map((m) => m.id);
  const cases: Array<[string, (m: MemberRef) => boolean, number, string[]]> = [
    ["everyone, the first", () => true, 1, ["a:1"]],
    ["everyone, three", () => true, 3, ["a:1", "b:1", "c:1"]],
    ["c sits in both lists and counts once", () => true, 10, ["a:1", "b:1", "c:1", "d:1", "e:1"]],
    ["skipping the ones not kept", (m) => m.id !== "a:1" && m.id !== "c:1", 2, ["b:1", "d:1"]],
    ["none kept", () => false, 3, []],
  ];
  for (const [what, keep, count, want] of cases) assert.deepEqual(ids(lowestMembers(t, keep, count)), want, what);
  // A restarted process (same id, another nonce) is another acceptor, after the first in nonce order.
  const restarted = { ...stable(A, ref("b:1", "m")), next: [ref("b:1", "z")] };
  assert.deepEqual(lowestMembers(restarted, () => true, 3).map(memberKey), ["a:1#n", "b:1#m", "b:1#z"]);
});

test("joiners are gathered while more arrive or some are not yet alive, never past the bound", () => {
  const cases: Array<[string, Asking[], number, boolean]> = [
    ["nobody asking", [], 10_000, false],
    ["one alive, asked just now", [{ since: 9_500, alive: true }], 10_000, true],
    ["one alive, asked a quiet second ago", [{ since: 9_000, alive: true }], 10_000, false],
    ["the last of a crowd asked just now", [{ since: 7_000, alive: true }, { since: 9_800, alive: true }], 10_000, true],
    ["one not yet alive", [{ since: 7_000, alive: true }, { since: 7_000, alive: false }], 10_000, true],
    ["the first has waited the bound: go with who is there", [{ since: 5_000, alive: true }, { since: 9_900, alive: false }], 10_000, false],
  ];
  for (const [what, asking, now, want] of cases) assert.equal(gatheringJoiners(asking, now), want, what);
  assert.equal(JOIN_GATHER_MAX_MS > JOIN_QUIET_MS, true);
});

test("a joiner's hello goes to the few members in line to drive; a leaver's to every member", () => {
  const ring = stable(A, B, C, D, E);
  const cases: Array<[string, string, boolean, (id: string) => boolean, string[]]> = [
    ["a joiner that sees everyone alive: the three lowest", "z:1", false, () => true, ["a:1", "b:1", "c:1"]],
    ["the lowest dead: the next three", "z:1", false, (id) => id !== "a:1", ["b:1", "c:1", "d:1"]],
    ["a joiner that sees nobody alive yet: the three lowest all the same", "z:1", false, () => false, ["a:1", "b:1", "c:1"]],
    ["never itself (a restarted process at a member's address)", "a:1", false, () => true, ["b:1", "c:1", "d:1"]],
    ["a leaver: every member", "c:1", true, () => true, ["a:1", "b:1", "c:1", "d:1", "e:1"]],
  ];
  for (const [what, self, leaving, alive, want] of cases) assert.deepEqual(helloTargets(ring, self, leaving, alive), want, what);
});

test("the driver loop slows to SETTLED_TICK_MS only when nothing but news can give it work", () => {
  const settled: LoopState = { idle: true, woken: false, backoff: 0, phase: "stable", staying: true, candidates: 0, leavers: 0, ownersAlive: true };
  assert.equal(nextTickMs(settled), SETTLED_TICK_MS);
  const busy: Array<[string, Partial<LoopState>]> = [
    ["the last tick had something to do", { idle: false }],
    ["news came in since the last tick began", { woken: true }],
    ["sitting out ticks after a lost ballot", { backoff: 1 }],
    ["a transition under way", { phase: "write_both_read_old" }],
    ["not a member yet, or leaving (hellos go out every second)", { staying: false }],
    ["someone asks to join", { candidates: 1 }],
    ["a member leaving", { leavers: 1 }],
    ["an owner suspect or dead (its removal waits on time, not news)", { ownersAlive: false }],
  ];
  for (const [why, change] of busy) assert.equal(nextTickMs({ ...settled, ...change }), DRIVER_TICK_MS, why);
});

test("holders of a position given as halves are its holders, settled or moving", () => {
  const positions = Array.from({ length: 500 }, (_, i) => ringPosition(`key:${i}`)).concat([0n, 2n ** 64n - 1n]);
  for (const state of [stable(A, B, C, D), beginTransition(stable(A, B, C), [A, B, D, E])]) {
    const l = layout(state);
    for (const p of positions) {
      const halves = { high: Number(p >> 32n), low: Number(p & 0xffff_ffffn) };
      assert.deepEqual(l.holdersOfHalves(halves), l.holders(p), `${state.phase} at ${p}`);
    }
  }
});

test("a key placed by its halves is placed as by its position: settled, moving, pinned, or with a ghost", () => {
  const keys = Array.from({ length: 500 }, (_, i) => `key:${i}`);
  const half = 2n ** 63n;
  const pinned = { ...stable(A, B, C, D), pins: pinsFrom([{ lo: 0n, hi: half, owners: { members: [A, B, E], next: [A, B, C], readNew: false }, since: 5, at: 1 }]) };
  const ghost = { ...beginTransition(stable(A, B, C), [A, B, D]), next: [A, { id: "b:1", nonce: "m" }, D] };
  for (const state of [stable(A, B, C, D), beginTransition(stable(A, B, C), [A, B, D, E]), pinned, ghost]) {
    const l = layout(state);
    for (const key of keys) assert.deepEqual(l.placementOfHalves(ringHalves(key)), l.placement(ringPosition(key)), `${state.phase}, ${state.pins.length} pins: ${key}`);
  }
  // Settled, placements are made once and shared: at most one per virtual node, whatever the keys.
  const settled = layout(stable(A, B, C, D));
  const made = new Set(keys.map((key) => settled.placementOfHalves(ringHalves(key))));
  assert.ok(made.size <= 4 * 8, `${made.size} placements for 32 vnodes`);
  for (const key of keys) assert.ok(made.has(settled.placementOfHalves(ringHalves(key))), key);
});
