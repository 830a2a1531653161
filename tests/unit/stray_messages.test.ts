/**
 * No stray message can move the ring: member ids are `host:port` wherever they enter, a
 * hello alone makes nobody a joiner, and a ping meant for another member teaches nothing.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { encode } from "@msgpack/msgpack";
import { parseAddress } from "../../lib/address.ts";
import { defaultConfig } from "../../lib/config.ts";
import { createNode } from "../../lib/node.ts";
import { MAX_LIVE_MEMBERS } from "../../lib/membership/table.ts";
import { isMemberId } from "../../lib/wire/fields.ts";
import { encodeMessage } from "../../lib/wire/swim.ts";
import { testEnv } from "../support/env.ts";
import { labelled } from "../support/label.ts";

test("a member id is host:port: a DNS name, a dotted quad or [IPv6], and a port 1-65535", () => {
  const good = ["127.0.0.1:8000", "a:1", "node-1.example.com:80", "my_service:9000", "[::1]:8000", "3com.net:1", "10.213.7.2:18000"];
  const bad = ["127.0.0C1:18000", "127.\u{6ec2e}1:18000", "1.2.3:80", "256.1.1.1:1", "host:0", "host:65536", "host:080", "host", ":80", "a..b:1", "-a:1", "a b:1", "a:1:2", ""];
  for (const id of good) assert.ok(isMemberId(id), id);
  for (const id of bad) assert.ok(!isMemberId(id), id);
  // A node never starts with an id the others would refuse.
  assert.equal(parseAddress("127.0.0C1:8000"), undefined);
  assert.equal(parseAddress("8000", "127.0.0.1"), "127.0.0.1:8000");
});

function node() {
  const env = testEnv();
  const n = createNode(defaultConfig({ port: 7000, advertise: "10.0.0.1:7000" }), env, { runtime: "test", nonce: "n" });
  return { n, env };
}

const post = (path: string, body: Uint8Array) => new Request(`http://10.0.0.1:7000${path}`, { method: "POST", body: labelled(body) });

test("a hello and a ping from a garbled id are refused with 400, and change nothing", async () => {
  const { n } = node();
  const before = n.topology.state;
  const hello = encode({ type: "hello", from: ["127.0.0C1:18000", "n"], leaving: false });
  const res = await n.fetch(post("/_ring/hello", hello));
  assert.equal(res.status, 400);
  assert.match((await res.json()).error, /member id \(host:port\)/);
  assert.deepEqual(n.topology.candidates(), []);
  const ping = encodeMessage({ type: "ping", from: "127.\u{6ec2e}1:18000", incarnation: 0, epoch: 0, target: "10.0.0.1:7000", updates: [] });
  assert.equal((await n.fetch(post("/_swim/ping", ping))).status, 400);
  const gossip = encodeMessage({ type: "ping", from: "10.0.0.2:7000", incarnation: 0, epoch: 0, target: "10.0.0.1:7000", updates: [{ id: "1.2.3:80", state: "alive", incarnation: 0, from: "10.0.0.2:7000" }] });
  assert.equal((await n.fetch(post("/_swim/ping", gossip))).status, 400, "a piggybacked update naming a garbled id spoils the message");
  assert.deepEqual(n.swim.members().map((m) => m.id), ["10.0.0.1:7000"]);
  assert.equal(n.topology.state, before);
});

test("a ping meant for another member is refused (421) before its sender is believed", async () => {
  const { n } = node();
  const stray = encodeMessage({ type: "ping", from: "10.0.0.9:7000", incarnation: 0, epoch: 0, target: "10.0.0.5:7000", updates: [] });
  assert.equal((await n.fetch(post("/_swim/ping", stray))).status, 421);
  assert.deepEqual(n.swim.members().map((m) => m.id), ["10.0.0.1:7000"], "the sender was not taken in");
});

test("a flood of made-up members stops at MAX_LIVE_MEMBERS; the drops are counted", async () => {
  const { n } = node();
  let sent = 0;
  for (let from = 0; sent < MAX_LIVE_MEMBERS + 500; from++) {
    const sender = `10.1.${from >> 8}.${from & 255}:7000`;
    const updates = Array.from({ length: 24 }, (_, i) => ({ id: `10.2.${(sent + i) >> 8 & 255}.${(sent + i) & 255}:${1 + ((sent + i) >> 16)}`, state: "alive" as const, incarnation: 0, from: sender }));
    sent += updates.length;
    const ping = encodeMessage({ type: "ping", from: sender, incarnation: 0, epoch: 0, target: "10.0.0.1:7000", updates });
    assert.equal((await n.fetch(post("/_swim/ping", ping))).status, 200);
  }
  assert.equal(n.swim.members().length, MAX_LIVE_MEMBERS + 1, "self and the bound");
  const refused = /dht_swim_members_refused_total (\d+)/.exec(n.metrics.render());
  assert.ok(refused && Number(refused[1]) > 500, `refusals counted: ${refused?.[1]}`);
});
