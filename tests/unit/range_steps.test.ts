/** Per-range steps and pinned ranges: the rules that let a lost quorum stop only its own range. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Layout } from "../../lib/topology/placement.ts";
import { MAX_POSITION, pinAt, pinsFrom, type RangeOwners } from "../../lib/topology/pins.ts";
import { type DriverView, nextStep, type Step } from "../../lib/topology/plan.ts";
import { fenceNeed, judge, type StepConditions, stepBetween, stepToward } from "../../lib/topology/range_steps.ts";
import { memberKey, type MemberRef, owners, type TopologyState } from "../../lib/topology/state.ts";
import { decodeTopologyMessage, encodeTopologyMessage } from "../../lib/wire/ring.ts";
import { encodeMsgpack } from "../../lib/wire/msgpack.ts";

const ref = (id: string): MemberRef => ({ id, nonce: "n" });
const [A, B, C, D, E, F, G] = ["a:1", "b:1", "c:1", "d:1", "e:1", "f:1", "g:1"].map(ref) as [MemberRef, MemberRef, MemberRef, MemberRef, MemberRef, MemberRef, MemberRef];
const quorum = { replicas: 3, writeQuorum: 2, readQuorum: 2 };
const keys = (...refs: MemberRef[]) => new Set(refs.map(memberKey));
const range = (members: MemberRef[], next = members, readNew = false): RangeOwners => ({ members, next, readNew });
const conditions = (c: Partial<StepConditions> & { streamed?: MemberRef[] } = {}): StepConditions => ({
  gone: new Set(),
  fenced: keys(A, B, C, D, E, F, G),
  quorum,
  streamedTo: (key) => (c.streamed ?? [A, B, C, D, E, F, G]).some((m) => memberKey(m) === key),
  keyOf: memberKey,
  ...c,
});

test("the step between two owner sets of a range: begin, read-new, finish, none, or none that is safe", () => {
  const table: Array<[RangeOwners, RangeOwners, string | undefined]> = [
    [range([A, B, C]), range([A, B, C]), "none"],
    [range([A, B, C]), range([A, B, C], [A, B, D]), "begin"],
    [range([A, B, C], [A, B, D]), range([A, B, C], [A, B, E]), "begin"], // retarget
    [range([A, B, C], [A, B, D]), range([A, B, C]), "begin"], // taken back
    [range([A, B, C], [A, B, D]), range([A, B, C], [A, B, D], true), "read-new"],
    [range([A, B, C], [A, B, D], true), range([A, B, D]), "finish"],
    [range([A, B, C]), range([A, B, D]), undefined], // owners replaced in one epoch: never
    [range([A, B, C], [A, B, D], true), range([A, B, C]), undefined], // reads went to the new owners: no way back
    [range([A, B, C]), range([A, B, C], [A, B, D], true), undefined], // reads move only after streaming
  ];
  for (const [from, to, expected] of table) assert.equal(stepBetween(from, to), expected, `${JSON.stringify(from)} → ${JSON.stringify(to)}`);
});

test("a step waits for owners that can still answer, and is stuck when too few can", () => {
  assert.deepEqual([1, 2, 3, 5].map((n) => fenceNeed(n, quorum)), [1, 1, 2, 4]);
  // Every completed operation involves max(R, W) of its read set: a majority of the set must acknowledge, whatever R and W.
  assert.equal(fenceNeed(3, { ...quorum, readQuorum: 1, writeQuorum: 3 }), 1);
  assert.equal(fenceNeed(3, { ...quorum, readQuorum: 3, writeQuorum: 1 }), 1);
  assert.equal(fenceNeed(5, { replicas: 5, readQuorum: 2, writeQuorum: 4 }), 2);
  const begin = [range([A, B, C]), range([A, B, C], [A, B, D])] as const;
  assert.equal(judge(...begin, conditions()).kind, "ok");
  assert.deepEqual(judge(...begin, conditions({ fenced: keys(A) })), { kind: "wait", why: "fence", waitingFor: ["b:1#n", "c:1#n"] });
  assert.deepEqual(judge(...begin, conditions({ fenced: keys(A), gone: keys(C) })), { kind: "wait", why: "fence", waitingFor: ["b:1#n"] });
  assert.deepEqual(judge(...begin, conditions({ gone: keys(B, C) })), { kind: "stuck", lost: ["b:1#n", "c:1#n"] });

  const readNew = [range([A, B, C], [A, B, D]), range([A, B, C], [A, B, D], true)] as const;
  assert.equal(judge(...readNew, conditions({ streamed: [A, B] })).kind, "ok");
  assert.deepEqual(judge(...readNew, conditions({ streamed: [A] })), { kind: "wait", why: "streaming", waitingFor: ["b:1#n", "c:1#n"] });
  assert.equal(judge(...readNew, conditions({ streamed: [A], gone: keys(B, C) })).kind, "stuck", "R old owners can never stream it");
  assert.equal(judge(...readNew, conditions({ gone: keys(C, D) })).kind, "ok", "one gone in each set: both still fenced by two");
  assert.equal(judge(...readNew, conditions({ gone: keys(B, D) })).kind, "stuck", "two gone of the new owners: they cannot be fenced");

  const finish = [range([A, B, C], [A, B, D], true), range([A, B, D])] as const;
  assert.equal(judge(...finish, conditions({ gone: keys(C) })).kind, "ok");
  assert.equal(judge(...finish, conditions({ gone: keys(B, C) })).kind, "stuck", "the old owners cannot be fenced: their readers may be alive");
});

test("a pinned range steps toward the ring's owners one phase at a time", () => {
  const target = [D, E, F];
  let r = range([A, B, C]);
  const path: RangeOwners[] = [];
  for (let i = 0; i < 4; i++) path.push((r = stepToward(r, target)));
  assert.deepEqual(path, [range([A, B, C], target), range([A, B, C], target, true), range(target), range(target)]);
  assert.deepEqual(stepToward(range([A, B, C], [A, B, G]), target), range([A, B, C], target), "retargeted to the ring's owners");
});

test("pins: merged runs, and the pin holding a position", () => {
  const pins = pinsFrom([
    { lo: 0n, hi: 9n, owners: range([A, B, C]), since: 3, at: 1 },
    { lo: 10n, hi: 19n, owners: range([A, B, C]), since: 3, at: 1 },
    { lo: 30n, hi: MAX_POSITION, owners: range([A, B, C], [A, B, D]), since: 3, at: 1 },
  ]);
  assert.deepEqual(pins.map((p) => [p.lo, p.hi]), [[0n, 19n], [30n, MAX_POSITION]]);
  assert.equal(pinAt(pins, 19n), pins[0]);
  assert.equal(pinAt(pins, 25n), undefined);
  assert.equal(pinAt(pins, MAX_POSITION), pins[1]);
});

const six = (): TopologyState => ({ cluster: "a:1#n", epoch: 5, phase: "stable", members: [A, B, C, D, E, F], next: [], removed: [], pins: [], recoveries: [] });
const layout = (s: TopologyState) => new Layout(s, 16, 3);
const view = (v: Partial<DriverView>): DriverView => {
  const removable = v.removable ?? new Set<string>();
  return { removable, gone: removable, leaving: new Set(), joiners: [], fenced: new Set(), streamed: new Map(), now: 1_000, ...v };
};
const all = (s: TopologyState) => keys(...owners(s));
const streamedAll = (s: TopologyState) => new Map(owners(s).map((m) => [memberKey(m), new Set<string>()]));

/** Runs the planner to the next stable epoch, every member that can answer having done its part. */
function toStable(s: TopologyState, v: Partial<DriverView>): TopologyState {
  for (let i = 0; i < 4 && (i === 0 || s.phase !== "stable"); i++) {
    const step: Step = nextStep(layout(s), view({ fenced: all(s), streamed: streamedAll(s), ...v }), quorum);
    assert.equal(step.kind, "propose", `step ${i} from ${s.phase}: ${step.kind === "wait" ? step.reason : ""}`);
    if (step.kind === "propose") s = step.value;
  }
  return s;
}

/** Every range's read owners: [range end, owners] over a fine grid of positions. */
function readOwners(s: TopologyState, positions: bigint[]): string[][] {
  const l = layout(s);
  return positions.map((p) => [...l.placement(p).read]);
}

test("two members lost at once: their shared ranges are pinned, every other range moves, and a join still completes", () => {
  const s0 = six();
  const grid = Array.from({ length: 2_000 }, (_, i) => (MAX_POSITION / 2_000n) * BigInt(i) + 7n);
  const lost = keys(C, D);
  const shared = grid.filter((p) => layout(s0).placement(p).read.filter((id) => id === "c:1" || id === "d:1").length >= 2);
  assert.ok(shared.length > 0 && shared.length < grid.length / 2, "some ranges had both lost members among their owners");

  const s1 = toStable(s0, { removable: lost });
  assert.deepEqual(s1.members, [A, B, E, F]);
  assert.ok(s1.pins.length > 0);
  assert.deepEqual(s1.removed, [], "members still named by pinned ranges are not removed");
  const after = readOwners(s1, grid);
  grid.forEach((p, i) => {
    const isShared = shared.includes(p);
    assert.equal(layout(s1).pinAt(p) !== undefined, isShared, `position ${p}: pinned exactly where two owners were lost`);
    if (isShared) assert.deepEqual([...after[i]!].sort(), [...layout(s0).placement(p).read].sort(), "a pinned range keeps its owners");
    else assert.ok(!after[i]!.some((id) => id === "c:1" || id === "d:1") && after[i]!.length === 3, "every other range is on three live owners");
  });

  // A join goes through while the pinned ranges wait.
  const s2 = toStable(s1, { removable: lost, joiners: [G] });
  assert.deepEqual(s2.members, [A, B, E, F, G]);
  assert.deepEqual(s2.pins.map((p) => [p.lo, p.hi]), s1.pins.map((p) => [p.lo, p.hi]), "the pins stay as they were");

  // Nothing more to do while C and D stay lost: the planner waits and says why.
  const idle = nextStep(layout(s2), view({ removable: lost, fenced: all(s2), streamed: streamedAll(s2) }), quorum);
  assert.equal(idle.kind, "wait");
  assert.match(idle.kind === "wait" ? idle.reason : "", /cannot move: too few of their owners answer \(.*c:1#n.*d:1#n|d:1#n.*c:1#n/);

  // C and D come back (a partition healed): the pinned ranges move to the ring's owners and the two are let go.
  let s3 = s2;
  for (let i = 0; i < 3; i++) {
    const step = nextStep(layout(s3), view({ fenced: all(s3), streamed: streamedAll(s3) }), quorum);
    assert.equal(step.kind, "propose", step.kind === "wait" ? step.reason : "");
    if (step.kind === "propose") s3 = step.value;
  }
  assert.deepEqual(s3.pins, []);
  assert.deepEqual(s3.removed.sort(), ["c:1#n", "d:1#n"]);
});

test("control: with the fence over every range, two members lost at once hold the whole ring", () => {
  const s0 = six();
  const step = nextStep(layout(s0), view({ removable: keys(C, D), fenced: keys(A, B, E, F), joiners: [G] }), quorum, { everyRange: true });
  assert.equal(step.kind, "wait");
});

test("a second owner lost in the middle of a move: that range is pinned as it is, the rest finish", () => {
  const s0 = six();
  const s1 = nextStep(layout(s0), view({ removable: keys(D), fenced: all(s0) }), quorum);
  assert.equal(s1.kind, "propose");
  const wbro = (s1 as { value: TopologyState }).value;
  assert.equal(wbro.phase, "write_both_read_old");
  assert.deepEqual(wbro.pins, [], "one member lost: nothing needs pinning");
  // C dies before streaming is done: ranges that had C and D as old owners cannot be streamed by two.
  const lost = keys(C, D);
  const streamed = new Map([A, B, E, F].map((m) => [memberKey(m), new Set<string>()]));
  const s2 = nextStep(layout(wbro), view({ removable: lost, fenced: keys(A, B, E, F), streamed }), quorum);
  assert.equal(s2.kind, "propose", s2.kind === "wait" ? s2.reason : "");
  const wbrn = (s2 as { value: TopologyState }).value;
  assert.ok(wbrn.phase === "write_both_read_old" || wbrn.phase === "write_both_read_new");
  const s3 = toStable(wbrn, { removable: lost });
  assert.ok(s3.pins.length > 0, "the ranges that lost two old owners are pinned");
  for (const pin of s3.pins) assert.ok(pin.members.some((m) => m.id === "c:1") && pin.members.some((m) => m.id === "d:1"));
});

test("pins and recoveries round-trip on the wire; a hostile pin list is refused", () => {
  const s0 = six();
  const s1 = toStable(s0, { removable: keys(C, D) });
  const value: TopologyState = { ...s1, recoveries: [{ epoch: 9, at: 12, by: "ops@host", ranges: ["00-ff"], lost: ["c:1#n"], kept: "every write acknowledged before 12" }] };
  const message = { type: "status" as const, from: A, state: value };
  assert.deepEqual(decodeTopologyMessage(encodeTopologyMessage(message)), message);
  const wire = (q: unknown) => encodeMsgpack({ type: "status", from: ["a:1", "n"], state: { c: "a:1#n", e: 1, p: 0, m: [["a:1", "n"]], n: [], r: [], q, v: [] } });
  const pin = (lo: string, hi: string) => [lo, hi, [["a:1", "n"]], [["a:1", "n"]], false, 1, 1];
  assert.throws(() => decodeTopologyMessage(wire([pin("ff", "10")])), /lo must not be past its hi/);
  assert.throws(() => decodeTopologyMessage(wire([pin("10", "20"), pin("15", "30")])), /sorted and disjoint/);
  assert.throws(() => decodeTopologyMessage(wire([pin("zz", "30")])), /ring position in hex/);
  assert.throws(() => decodeTopologyMessage(wire([["1", "2", [], [["a:1", "n"]], false, 1, 1]])), /at least one member/);
});

test("a pinned range never asks an owner whose address a restarted process now answers from", () => {
  // B restarted (a new nonce) while a transition replaces it: the new process must not answer for B's pinned range.
  const restartedB = { id: "b:1", nonce: "m" };
  const pin = pinsFrom([{ lo: 0n, hi: 99n, owners: range([A, B, C]), since: 5, at: 1 }])[0]!;
  const state: TopologyState = { cluster: "a:1#n", epoch: 6, phase: "write_both_read_old", members: [A, B, D], next: [A, restartedB, D], removed: [], pins: [pin], recoveries: [] };
  assert.deepEqual([...layout(state).placement(50n).read].sort(), ["a:1", "c:1", "~b:1"]);
});
