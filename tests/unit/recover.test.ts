/** The operator's recovery: the bound it states, the value it proposes, and the command's words. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { lostRanges } from "../../lib/topology/lost.ts";
import { keptBound, keptText, recoveredValue } from "../../lib/topology/recover.ts";
import { memberKey, type MemberRef, type Pin, type TopologyState } from "../../lib/topology/state.ts";
import { parseRecoverArgs, recoverPlan } from "../../lib/recover_command.ts";
import { SyncTokens } from "../../lib/sync/tokens.ts";

const ref = (id: string): MemberRef => ({ id, nonce: "n" });
const [A, B, C, D, E] = ["a:1", "b:1", "c:1", "d:1", "e:1"].map(ref) as [MemberRef, MemberRef, MemberRef, MemberRef, MemberRef];
const pin = (members: MemberRef[], next = members, readNew = false): Pin => ({ lo: 0n, hi: 99n, members, next, readNew, since: 3, at: 1_000 });
const times = (entries: Record<string, Record<string, number>>) => new Map(Object.entries(entries).map(([s, t]) => [s, new Map(Object.entries(t))]));

test("the kept bound: all when fewer than W of the read set are lost, else the W-th earliest of the lost owners' best sync times", () => {
  const lost = new Set(["b:1", "c:1"]);
  const table: Array<[string, Pin, ReturnType<typeof times>, number, ReturnType<typeof keptBound>]> = [
    ["one lost of three (W = 2): every write reached a survivor", pin([A, B, D]), times({}), 2, { all: true }],
    ["two lost, no record", pin([A, B, C]), times({}), 2, { all: false, before: undefined }],
    ["two lost, one synced: writes on both lost reached the survivor through that one", pin([A, B, C]), times({ "a:1": { "b:1": 500 } }), 2, { all: false, before: 500 }],
    ["two lost, both synced: the later time", pin([A, B, C]), times({ "a:1": { "b:1": 500, "c:1": 700 } }), 2, { all: false, before: 700 }],
    ["the best survivor's record counts", pin([A, B, C]), times({ "a:1": { "b:1": 500 }, "d:1": { "b:1": 900 } }), 2, { all: false, before: 900 }],
    ["W = 1: a write on one lost owner is kept only before its sync time", pin([A, B, C]), times({ "a:1": { "b:1": 500, "c:1": 700 } }), 1, { all: false, before: 500 }],
    ["reads moved to new owners that all survive: all kept", pin([A, B, C], [A, D, E], true), times({}), 2, { all: true }],
    ["not yet read from new owners: the old set holds the writes", pin([A, B, C], [A, D, E]), times({}), 2, { all: false, before: undefined }],
  ];
  for (const [what, p, synced, w, expected] of table) assert.deepEqual(keptBound(p, lost, synced, w), expected, what);
  assert.match(keptText({ all: false, before: Date.UTC(2026, 0, 1) }), /before 2026-01-01T00:00:00\.000Z .* is kept; writes acknowledged after it may be missing/);
  assert.match(keptText({ all: false, before: undefined }), /any acknowledged write may be missing/);
});

test("a recovery keeps a lost range's surviving owners only, records itself, and removes owners named nowhere else", () => {
  const lostPin = pin([A, B, C]);
  const state: TopologyState = { cluster: "k", epoch: 9, phase: "stable", members: [A, D, E], next: [], removed: [], pins: [lostPin], recoveries: [] };
  const quorum = { replicas: 3, writeQuorum: 2, readQuorum: 2 };
  const [lost] = lostRanges(state, quorum);
  assert.deepEqual([lost!.range, lost!.dead], ["0000000000000000-0000000000000063", ["b:1", "c:1"]]);
  const value = recoveredValue(state, new Set([lost!.range]), { at: 5_000, by: "ops@host", kept: new Map([[lost!.range, { all: false, before: 4_000 }]]) });
  assert.equal(value.epoch, 10);
  assert.deepEqual(value.pins.map((p) => [p.members.map(memberKey), p.next.map(memberKey), p.since]), [[["a:1#n"], ["a:1#n"], 10]]);
  assert.deepEqual(value.removed, ["b:1#n", "c:1#n"]);
  assert.deepEqual(value.recoveries, [{ epoch: 10, at: 5_000, by: "ops@host", ranges: [lost!.range], lost: ["b:1#n", "c:1#n"], kept: `1 range; at worst: ${keptText({ all: false, before: 4_000 })}` }]);
  assert.deepEqual(lostRanges(value, quorum), [], "no longer lost: one owner, a quorum of one");
  // Nothing survives: the range goes to the ring's owners, empty.
  const gone = { ...state, pins: [pin([B, C, ref("f:1")])] };
  assert.deepEqual(recoveredValue(gone, new Set([lost!.range]), { at: 1, by: "x", kept: new Map() }).pins, []);
});

test("sync tokens: a token is confirmed only after a round that started after it completed", () => {
  const d = new SyncTokens();
  const s = new SyncTokens();
  const before = d.snapshot(); // round k starts
  d.received("s", 100); // s's token, in round k's digest reply
  d.completed("s", before); // round k completes: it started before the token, so confirms nothing
  assert.equal(d.toConfirm("s"), undefined);
  const next = d.snapshot(); // round k+1
  d.completed("s", next);
  assert.equal(d.toConfirm("s"), 100);
  s.confirmedBy("d", 100);
  s.confirmedBy("d", 50); // an older confirmation never lowers it
  assert.deepEqual(s.syncedFrom(), { d: 100 });
});

test("recover's command line and its words", () => {
  assert.deepEqual(parseRecoverArgs([], "127.0.0.1:8000"), { via: "127.0.0.1:8000", ranges: [], all: false, yes: false });
  assert.deepEqual(parseRecoverArgs(["9000", "--all", "--yes"], "x"), { via: "127.0.0.1:9000", ranges: [], all: true, yes: true });
  const range = "0000000000000000-00000000000000ff";
  assert.deepEqual(parseRecoverArgs(["--range", range], "x:1"), { via: "x:1", ranges: [range], all: false, yes: false });
  for (const bad of [["--range"], ["--range", "zz"], ["--all", "--range", range], ["a:1", "b:1"], ["--nope"], ["no:port:here"]]) {
    assert.ok("error" in parseRecoverArgs(bad, "x:1"), bad.join(" "));
  }
  const listing = { epoch: 12, warning: "careful", ranges: [{ range, owners: ["a:1", "b:1", "c:1"], dead: ["b:1", "c:1"], survivors: ["a:1"], since: "2026-01-01T00:00:00.000Z", says: "every write acknowledged before X is kept" }] };
  const listed = recoverPlan(listing, { ranges: [], all: false });
  assert.deepEqual(listed.chosen, []);
  assert.match(listed.text, /1 ranges lost a quorum .*\n.*owners a:1, b:1, c:1; dead b:1, c:1[\s\S]*gives it to a:1: every write acknowledged before X is kept[\s\S]*add --range R/);
  const all = recoverPlan(listing, { ranges: [], all: true });
  assert.deepEqual(all.chosen, [range]);
  assert.match(all.text, /warning: careful/);
  const unknown = recoverPlan(listing, { ranges: ["1111111111111111-2222222222222222"], all: false });
  assert.deepEqual([unknown.chosen, unknown.unknown], [[], ["1111111111111111-2222222222222222"]]);
  assert.match(recoverPlan({ ...listing, ranges: [] }, { ranges: [], all: true }).text, /nothing to recover/);
});
