/** A node's side of the agreed ring: the replica gate, the /_ring/ messages, hostile bodies. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { encode } from "@msgpack/msgpack";
import { defaultConfig } from "../../lib/config.ts";
import { createNode } from "../../lib/node.ts";
import {
  decodeTopologyMessage,
  decodeTopologyReply,
  encodeTopologyMessage,
  encodeTopologyReply,
  type TopologyMessage,
} from "../../lib/wire/ring.ts";
import { beginTransition, founding, type MemberRef, NO_RING, type TopologyState } from "../../lib/topology/state.ts";
import { NotOwnerError, StaleEpochError, Topology } from "../../lib/topology/topology.ts";
import { testEnv } from "../support/env.ts";
import { labelled } from "../support/label.ts";

const A: MemberRef = { id: "a:1", nonce: "n1" };
const B: MemberRef = { id: "b:1", nonce: "n2" };
const C: MemberRef = { id: "c:1", nonce: "n3" };
const three: TopologyState = { cluster: "a:1#n1", epoch: 4, phase: "stable", members: [A, B, C], next: [], removed: [], pins: [], recoveries: [] };

function topology(self: MemberRef, initial: TopologyState) {
  const env = testEnv();
  return new Topology({ self, initial, config: { vnodes: 8, replicas: 3 }, env });
}

test("every topology message and reply round-trips through msgpack", () => {
  const ballot = { round: 3, by: "a:1#n1" };
  const next = beginTransition(three, [A, B]);
  const messages: TopologyMessage[] = [
    { type: "prepare", from: A, base: three, ballot },
    { type: "accept", from: A, base: three, ballot, value: next },
    { type: "status", from: B, state: next },
    { type: "hello", from: C, leaving: true },
    { type: "get", from: C },
    { type: "notice", from: A, epoch: 5 },
  ];
  for (const m of messages) assert.deepEqual(decodeTopologyMessage(encodeTopologyMessage(m)), m);
  const reply = { ref: A, epoch: 4, streamed: 3, leaving: false, state: three, prepare: { ok: true as const, accepted: { ballot, value: next } }, accept: { ok: false as const, promised: ballot }, refused: "why" };
  assert.deepEqual(decodeTopologyReply(encodeTopologyReply(reply)), reply);
});

test("decoded members are shared and frozen: the same process decodes to the same object, a restarted one to a new one, a bad nonce is refused", () => {
  const status = (members: unknown[]) => encode({ type: "status", from: ["a:1", "n1"], state: { c: "a:1#n1", e: 4, p: 0, m: members, n: [], r: [], q: [], v: [] } });
  const first = decodeTopologyMessage(status([["a:1", "n1"], ["b:1", "n2"]]));
  const again = decodeTopologyMessage(status([["a:1", "n1"], ["b:1", "n2"]]));
  assert.ok(first.type === "status" && again.type === "status");
  assert.equal(again.state.members[1], first.state.members[1], "one object per process, whichever message named it");
  assert.ok(Object.isFrozen(first.state.members[1]), "shared, so nobody may change it");
  const restarted = decodeTopologyMessage(status([["a:1", "n1"], ["b:1", "n9"]]));
  assert.ok(restarted.type === "status");
  assert.deepEqual(restarted.state.members[1], { id: "b:1", nonce: "n9" });
  assert.throws(() => decodeTopologyMessage(status([["a:1", "n1"], ["b:1", "n 2"]])), /nonce is letters/, "a known address does not vouch for a new nonce");
  assert.throws(() => decodeTopologyMessage(status([["a:1", "n1"], ["b:1", 7]])), /nonce/);
});

test("the replica gate: an epoch that is over is refused, a later one raises the fence, a non-member answers nothing", () => {
  const b = topology(B, three);
  b.admit(4);
  assert.throws(() => b.admit(3), StaleEpochError);
  b.admit(6); // taken on trust as a fence: a coordinator is there already
  assert.throws(() => b.admit(5), (err: unknown) => err instanceof StaleEpochError && err.epoch === 6);
  const stranger = topology({ id: "b:1", nonce: "restarted" }, three);
  assert.throws(() => stranger.admit(4), NotOwnerError, "the same address, a new process: not the owner the ring names");
  const joining = topology({ id: "d:1", nonce: "x" }, NO_RING);
  assert.throws(() => joining.admit(4), NotOwnerError);
});

test("a node takes later epochs of its own cluster only; a lone founder gives way to the cluster it meets", () => {
  const b = topology(B, three);
  assert.equal(b.adopt({ ...three, epoch: 3 }), false, "an older epoch");
  assert.equal(b.adopt({ ...three, epoch: 9, cluster: "other" }), false, "another cluster");
  assert.equal(b.adopt({ ...three, epoch: 5 }), true);
  const lone = topology(C, founding(C));
  assert.equal(lone.adopt(three), true);
  assert.equal(lone.isMember, true);
  const removed = topology(C, three);
  removed.adopt({ ...three, epoch: 7, members: [A, B], removed: ["c:1#n3"] });
  assert.equal(removed.isMember, false);
  assert.notEqual(removed.self.nonce, "n3", "a process removed while alive comes back as a new member");
});

test("an acceptor votes only as the process the ring names, and points a proposer that is behind at the later epoch", () => {
  const b = topology(B, three);
  const ballot = { round: 1, by: "a:1#n1" };
  assert.deepEqual(b.answer({ type: "prepare", from: A, base: three, ballot }).prepare, { ok: true });
  const stranger = topology({ id: "b:1", nonce: "restarted" }, three);
  const refused = stranger.answer({ type: "prepare", from: A, base: three, ballot });
  assert.equal(refused.prepare, undefined);
  assert.match(refused.refused ?? "", /not an acceptor/);
  b.adopt({ ...three, epoch: 5 });
  const behind = b.answer({ type: "prepare", from: A, base: three, ballot });
  assert.equal(behind.state?.epoch, 5);
  assert.equal(behind.refused, "already decided");
});

test("hostile bodies to /_ring/ routes get a 400 and change nothing", async () => {
  const node = createNode(defaultConfig({ port: 7000 }), testEnv(), { runtime: "test", nonce: "n" });
  const before = node.topology.epoch;
  const bodies = [new Uint8Array(0), new Uint8Array([0xdc]), encode({ type: "prepare" }), encode({ type: "status", from: ["a:1", "n"], state: { c: "x", e: 99, p: 7, m: [], n: [], r: [] } }), encode({ type: "hello", from: ["a:1", "n"], leaving: "yes" })];
  for (const body of bodies) {
    const res = await node.fetch(new Request("http://n/_ring/status", { method: "POST", body: labelled(body) }));
    assert.equal(res.status, 400, await res.clone().text());
    assert.match((await res.json()).error, /bad message/);
  }
  assert.equal((await node.fetch(new Request("http://n/_ring/other", { method: "POST", body: new Uint8Array(1) }))).status, 404);
  assert.equal(node.topology.epoch, before);
  await node.stop();
});
