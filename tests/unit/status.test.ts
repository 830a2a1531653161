import { test } from "node:test";
import assert from "node:assert/strict";
import { ringShares, type StatusInput, statusReport } from "../../lib/status.ts";

const hex = (n: bigint) => n.toString(16).padStart(16, "0");
const ring = (over: Partial<StatusInput["ring"]> = {}): StatusInput["ring"] => ({
  epoch: 5,
  checksum: "abcd",
  phase: "stable",
  members: ["a:1", "b:1"],
  // a owns the first quarter and the last quarter, b the half between.
  vnodes: [{ position: hex(1n << 62n), member: "a:1" }, { position: hex(3n << 62n), member: "b:1" }],
  ...over,
});
type Health = StatusInput["health"] extends Map<string, infer H> ? H : never;
const healthy = (epoch = 5, checksum = "abcd"): Health => ({ runtime: "bun", epoch, checksum, liveKeys: 12 });

test("status: a dead member the ring no longer names is history, not a problem; the next ring change is said", () => {
  const members = [{ id: "a:1", state: "alive", incarnation: 0 }, { id: "b:1", state: "alive", incarnation: 2 }, { id: "c:1", state: "dead", incarnation: 1 }];
  const report = statusReport({
    via: "a:1", members, ring: ring({ nextChange: { driver: "a:1", waitingFor: "nothing to change" } }), health: new Map([["a:1", healthy()], ["b:1", healthy()]]),
  });
  assert.equal(report.code, 0, report.text);
  assert.match(report.text, /c:1\s+dead/);
  assert.match(report.text, /next ring change \(driver a:1\): nothing to change/);
});

test("ring shares: each member's arcs, ending at its vnodes, wrapping past zero", () => {
  const shares = ringShares(ring().vnodes);
  assert.equal(shares.get("a:1"), 0.5);
  assert.equal(shares.get("b:1"), 0.5);
});

test("status: 0 when every member is alive on one ring, 1 with the reason otherwise", () => {
  const members = [{ id: "a:1", state: "alive", incarnation: 0 }, { id: "b:1", state: "alive", incarnation: 2 }];
  const good = statusReport({ via: "a:1", members, ring: ring(), health: new Map([["a:1", healthy()], ["b:1", healthy()]]) });
  assert.equal(good.code, 0);
  assert.match(good.text, /epoch 5 \(stable\), checksum abcd, 2 members/);
  assert.match(good.text, /b:1\s+alive\s+bun\s+12\s+50\.0%\s+5\s+yes/);
  const cases: Array<[string, StatusInput, RegExp]> = [
    ["a dead member", { via: "a:1", members: [members[0]!, { ...members[1]!, state: "dead" }], ring: ring(), health: new Map([["a:1", healthy()]]) }, /b:1 is dead/],
    ["a member on another ring", { via: "a:1", members, ring: ring(), health: new Map([["a:1", healthy()], ["b:1", healthy(4, "0000")]]) }, /b:1 holds epoch 4 \(0000\), not 5 \(abcd\)/],
    ["a member that did not answer", { via: "a:1", members, ring: ring(), health: new Map<string, Health>([["a:1", healthy()], ["b:1", { error: "timeout" }]]) }, /b:1 did not answer: timeout/],
    ["a restarted process the ring has not taken in yet", { via: "a:1", members, ring: ring(), health: new Map([["a:1", healthy()], ["b:1", { ...healthy(), member: false }]]) }, /b:1 answers from a new process the ring has not taken in yet/],
    ["a member not on the ring yet", { via: "a:1", members: [...members, { id: "c:1", state: "alive", incarnation: 0 }], ring: ring(), health: new Map([["a:1", healthy()], ["b:1", healthy()], ["c:1", healthy()]]) }, /c:1 is alive but not on the ring yet/],
    ["a transition", { via: "a:1", members, ring: ring({ phase: "write_both_read_old" }), health: new Map([["a:1", healthy()], ["b:1", healthy()]]) }, /in transition/],
    [
      "a range that lost its quorum",
      { via: "a:1", members, ring: ring({ pins: [{ range: "00-ff", owners: ["a:1", "c:1", "d:1"], quorumLost: true, dead: ["c:1", "d:1"] }] }), health: new Map([["a:1", healthy()], ["b:1", healthy()]]) },
      /1 ranges lost a quorum of their owners \(dead: c:1, d:1\).*mod\.ts recover a:1/,
    ],
  ];
  for (const [what, input, reason] of cases) {
    const report = statusReport(input);
    assert.equal(report.code, 1, what);
    assert.match(report.text, reason, what);
  }
});
