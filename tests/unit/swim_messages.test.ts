import { test } from "node:test";
import assert from "node:assert/strict";
import { encode } from "@msgpack/msgpack";
import { defaultConfig } from "../../lib/config.ts";
import { MessageError } from "../../lib/wire/fields.ts";
import { decodeMessage, encodeMessage, type SwimMessage } from "../../lib/wire/swim.ts";
import { createNode } from "../../lib/node.ts";
import { testEnv } from "../support/env.ts";
import { labelled, unlabelled } from "../support/label.ts";

const updates = [
  { id: "10.0.0.1:7000", state: "suspect" as const, incarnation: 3, from: "10.0.0.2:7000" },
  { id: "[::1]:7001", state: "left" as const, incarnation: 0, from: "[::1]:7001" },
];

test("every message type round-trips through msgpack", () => {
  const messages: SwimMessage[] = [
    { type: "ping", from: "a:1", incarnation: 2, epoch: 0, target: "b:1", updates },
    { type: "ping-req", from: "a:1", incarnation: 0, epoch: 0, target: "c:1", timeoutMs: 400, updates: [] },
    { type: "ack", from: "b:1", incarnation: 9, epoch: 0, updates },
    { type: "nack", from: "b:1", incarnation: 9, epoch: 0, updates: [] },
    { type: "nack", from: "b:1", incarnation: 9, epoch: 0, updates, unsure: true },
    { type: "sync", from: "a:1", incarnation: 1, epoch: 0, join: true, members: updates },
  ];
  for (const m of messages) assert.deepEqual(decodeMessage(encodeMessage(m)), m);
});

test("an update the sender itself vouches for leaves `from` out: a full table names its sender once", () => {
  const members = Array.from({ length: 100 }, (_, i) => ({ id: `10.0.0.${i}:7000`, state: "alive" as const, incarnation: i % 3, from: "10.0.9.9:7000" }));
  const mixed = [...members, ...updates];
  const sync: SwimMessage = { type: "sync", from: "10.0.9.9:7000", incarnation: 1, epoch: 4, join: false, members: mixed };
  assert.deepEqual(decodeMessage(encodeMessage(sync)), sync);
  const spelled = encode({ type: "sync", from: "10.0.9.9:7000", incarnation: 1, epoch: 4, join: false, members: mixed.map((u) => [u.id, ["alive", "suspect", "dead", "left"].indexOf(u.state), u.incarnation, u.from]) });
  assert.deepEqual(decodeMessage(spelled), sync, "the four-part form is still read");
  assert.ok(encodeMessage(sync).byteLength < spelled.byteLength * 0.65, `${encodeMessage(sync).byteLength} bytes, against ${spelled.byteLength} with every from spelled out`);
});

test("malformed, truncated and hostile bodies are refused with a MessageError", () => {
  const good = encodeMessage({ type: "ping", from: "a:1", incarnation: 0, epoch: 0, target: "b:1", updates });
  const bad: Array<[string, Uint8Array]> = [
    ["empty", new Uint8Array(0)],
    ["truncated", good.slice(0, good.length - 3)],
    ["garbage", new TextEncoder().encode("GET / HTTP/1.1\r\n")],
    ["not a map", encode([1, 2, 3])],
    ["unknown type", encode({ type: "explode", from: "a:1", incarnation: 0 })],
    ["missing from", encode({ type: "ping", incarnation: 0, target: "b", updates: [] })],
    ["negative incarnation", encode({ type: "ack", from: "a", incarnation: -1, epoch: 0, updates: [] })],
    ["fractional incarnation", encode({ type: "ack", from: "a", incarnation: 1.5, epoch: 0, updates: [] })],
    ["updates not an array", encode({ type: "ack", from: "a", incarnation: 0, epoch: 0, updates: "x" })],
    ["update state out of range", encode({ type: "ack", from: "a", incarnation: 0, epoch: 0, updates: [["m", 9, 0, "a"]] })],
    ["update too short", encode({ type: "ack", from: "a", incarnation: 0, epoch: 0, updates: [["m", 0]] })],
    ["huge id", encode({ type: "ack", from: "a".repeat(5000), incarnation: 0, epoch: 0, updates: [] })],
    ["join not boolean", encode({ type: "sync", from: "a", incarnation: 0, epoch: 0, join: 1, members: [] })],
    ["binary field", encode({ type: "ack", from: new Uint8Array(4), incarnation: 0, epoch: 0, updates: [] })],
  ];
  for (const [what, bytes] of bad) assert.throws(() => decodeMessage(bytes), MessageError, what);
});

test("the node answers hostile /_swim/ bodies with a 4xx and keeps working", async () => {
  const node = createNode(defaultConfig({ port: 7000 }), testEnv(), { runtime: "test" });
  const post = (path: string, body: Uint8Array) => node.fetch(new Request(`http://n${path}`, { method: "POST", body: labelled(body) }));
  const hostile: Array<[string, Uint8Array, number]> = [
    ["/_swim/ping", new TextEncoder().encode("not msgpack at all"), 400],
    ["/_swim/ping", new Uint8Array([0xdf, 0xff, 0xff, 0xff, 0xff]), 400], // a map claiming 4 billion entries
    ["/_swim/ping", encodeMessage({ type: "ack", from: "a:1", incarnation: 0, epoch: 0, updates: [] }), 400],
    ["/_swim/ping", encodeMessage({ type: "ping", from: "a:1", incarnation: 0, epoch: 0, target: "someone-else:1", updates: [] }), 421],
    ["/_swim/ping", new Uint8Array(3 * 1024 * 1024), 413],
    ["/_swim/nothing", new Uint8Array(1), 404],
  ];
  for (const [path, body, status] of hostile) {
    const res = await post(path, body);
    assert.equal(res.status, status, `${path} ${status}`);
    assert.ok(typeof (await res.json()).error === "string");
  }
  // A well-formed ping still gets its ack.
  const ping = encodeMessage({ type: "ping", from: "a:1", incarnation: 0, epoch: 0, target: "127.0.0.1:7000", updates: [] });
  const res = await post("/_swim/ping", ping);
  assert.equal(res.status, 200);
  const ack = decodeMessage(unlabelled(new Uint8Array(await res.arrayBuffer())));
  assert.equal(ack.type, "ack");
  assert.equal(ack.from, "127.0.0.1:7000");
  // And the sender of that ping is now known.
  assert.ok(node.swim.members().some((m) => m.id === "a:1" && m.state === "alive"));
});
