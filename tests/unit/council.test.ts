/** Who votes on the next epoch: every member of a small ring, else a council the value names (topology/council.ts). */
import { test } from "node:test";
import assert from "node:assert/strict";
import { chooseCouncil, COUNCIL_SIZE, hostOf, wantsNewCouncil } from "../../lib/topology/council.ts";
import { Topology } from "../../lib/topology/topology.ts";
import { acceptors, beginTransition, memberKey, type MemberRef, stateChecksum, type TopologyState } from "../../lib/topology/state.ts";
import { decodeTopologyMessage, encodeTopologyMessage } from "../../lib/wire/ring.ts";
import { MessageError } from "../../lib/wire/fields.ts";
import { testEnv } from "../support/env.ts";

const ref = (id: string, nonce = "n"): MemberRef => ({ id, nonce });
const stable = (members: MemberRef[], council?: MemberRef[]): TopologyState => ({
  cluster: "10.0.0.1:8000#n", epoch: 5, phase: "stable", members, next: [], removed: [], pins: [], recoveries: [], ...(council ? { council } : {}),
});
/** `count` members on each host named, ports 8000 up. */
const hosts = (...counts: Array<[string, number]>) => counts.flatMap(([host, n]) => Array.from({ length: n }, (_, i) => ref(`${host}:${8000 + i}`))).sort((a, b) => (a.id < b.id ? -1 : 1));
const perHost = (council: MemberRef[]) => {
  const counts: Record<string, number> = {};
  for (const m of council) counts[hostOf(m.id)] = (counts[hostOf(m.id)] ?? 0) + 1;
  return counts;
};
const all = () => true;

test("a ring of at most 25 members has no council: every member votes", () => {
  for (const n of [1, 3, 24, COUNCIL_SIZE]) {
    const s = stable(hosts(["10.0.0.1", n]));
    assert.deepEqual(chooseCouncil(s, all), [], `${n} members`);
    assert.equal(acceptors(s).length, n);
  }
});

test("past 25 members the council has 25 seats, apportioned over hosts by their members", () => {
  const cases: Array<[string, Array<[string, number]>, number[]]> = [
    ["one host", [["10.0.0.1", 100]], [25]],
    ["three equal hosts: no host holds a majority", [["10.0.0.1", 20], ["10.0.0.2", 20], ["10.0.0.3", 20]], [9, 8, 8]],
    ["a host with most members holds most seats", [["10.0.0.1", 40], ["10.0.0.2", 16]], [18, 7]],
    ["more hosts than seats: one seat each at most", Array.from({ length: 30 }, (_, i): [string, number] => [`h${i}`, 2]), Array(25).fill(1)],
  ];
  for (const [what, layout, want] of cases) {
    const council = chooseCouncil(stable(hosts(...layout)), all);
    assert.equal(council.length, COUNCIL_SIZE, what);
    const counts = perHost(council);
    // Ties between equal hosts go by hash: compare seats per host, most first.
    assert.deepEqual(Object.values(counts).sort((a, b) => b - a), want, what);
    if (layout.length === 2) assert.equal(counts["10.0.0.1"], 18, `${what}: the larger host`);
    assert.deepEqual(council, [...council].sort((a, b) => (a.id < b.id ? -1 : 1)), `${what}: sorted like members`);
  }
});

test("only usable members are seated; fewer seats when fewer are usable; new owners count as members", () => {
  const members = hosts(["10.0.0.1", 40]);
  const dead = new Set(members.slice(0, 20).map(memberKey));
  const usable = (m: MemberRef) => !dead.has(memberKey(m));
  const council = chooseCouncil(stable(members), usable);
  assert.equal(council.length, 20);
  assert.ok(council.every(usable));
  const growing = beginTransition(stable(hosts(["10.0.0.1", 20])), hosts(["10.0.0.1", 20], ["10.0.0.2", 6]));
  assert.equal(chooseCouncil(growing, all).length, COUNCIL_SIZE, "20 old and 6 joining: past 25");
});

test("a council is replaced before one more loss would cost it its majority, or when it could have more seats", () => {
  const members = hosts(["10.0.0.1", 60]);
  const council = chooseCouncil(stable(members), all);
  const gone = (n: number) => {
    const out = new Set(council.slice(0, n).map(memberKey));
    return (m: MemberRef) => !out.has(memberKey(m));
  };
  const moving = { ...beginTransition(stable(members), members.slice(1)), council };
  const cases: Array<[string, TopologyState, (m: MemberRef) => boolean, boolean]> = [
    ["stable, all there", stable(members, council), all, false],
    ["stable, one gone: the change that removes it seats a new council", stable(members, council), gone(1), false],
    ["stable, 12 gone: one more and no majority", stable(members, council), gone(12), true],
    ["no council (small ring)", stable(members.slice(0, 5)), gone(3), false],
    ["transition, 11 gone", moving, gone(11), false],
    ["transition, 12 gone", moving, gone(12), true],
    ["stable, seated while few were usable", stable(members, council.slice(0, 3)), all, true],
    ["stable, three seats and no more usable", stable(members, council.slice(0, 3)), (m) => council.slice(0, 3).includes(m), false],
    ["transition, seated while few were usable: its steps seat more", { ...moving, council: council.slice(0, 3) }, all, false],
  ];
  for (const [what, state, usable, want] of cases) assert.equal(wantsNewCouncil(state, usable), want, what);
});

test("the council travels with the value: encoded, checksummed, and only its members vote", async () => {
  const members = hosts(["10.0.0.1", 30]);
  const council = chooseCouncil(stable(members), all);
  const s = stable(members, council);
  const message = { type: "status" as const, from: members[0]!, state: s };
  const decoded = decodeTopologyMessage(encodeTopologyMessage(message));
  assert.deepEqual(decoded.type === "status" && decoded.state.council, council);
  assert.notEqual(stateChecksum(s), stateChecksum(stable(members)), "the council is part of the value");
  const stranger = { ...s, council: [ref("10.9.9.9:1")] };
  assert.throws(() => decodeTopologyMessage(encodeTopologyMessage({ ...message, state: stranger })), MessageError, "a council member must be on the ring");

  const outsider = members.find((m) => !council.some((c) => memberKey(c) === memberKey(m)))!;
  const seated = council[0]!;
  const ballot = { round: 1, by: memberKey(members[0]!) };
  const env = testEnv();
  for (const [self, votes] of [[outsider, false], [seated, true]] as const) {
    const topology = new Topology({ self, initial: s, config: { vnodes: 8, replicas: 3 }, env });
    const reply = topology.answer({ type: "prepare", from: members[0]!, base: s, ballot });
    assert.equal(reply.prepare?.ok === true, votes, `${memberKey(self)} ${votes ? "votes" : "does not vote"}`);
    assert.equal(topology.isMember, true, "on the ring either way");
  }
});
