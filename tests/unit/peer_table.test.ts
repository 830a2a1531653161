/**
 * The one peer-message seam: every internal path has a handler, and every carrier (HTTP,
 * a peer-stream frame, the simulator's delivery) gets the same answer from it.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { defaultConfig } from "../../lib/config.ts";
import { createNode } from "../../lib/node.ts";
import { overFrames } from "../../lib/sim/cluster.ts";
import { bodyLimits } from "../../lib/wire/paths.ts";
import { decodeMessage, encodeMessage } from "../../lib/wire/swim.ts";
import { testEnv } from "../support/env.ts";
import { labelled, unlabelled } from "../support/label.ts";

const lone = () => createNode(defaultConfig({ port: 7000 }), testEnv(), { runtime: "test" });
const post = (path: string, body: Uint8Array) => new Request(`http://n${path}`, { method: "POST", body: body as Uint8Array<ArrayBuffer> });

test("every path of the closed set of peer messages is answered over HTTP, never by the 404 route", async () => {
  const node = lone();
  const paths = Object.keys(bodyLimits(1024));
  assert.ok(paths.length >= 13, "swim, ring, sync and batch paths");
  for (const path of paths) {
    const res = await node.fetch(post(path, labelled(new Uint8Array([0xdc])))); // an array whose length is cut off
    const text = await res.text();
    assert.doesNotMatch(text, /no route/, path);
    // Every message is refused as bad, except the status request, which has no body to read.
    assert.equal(res.status, path === "/_kv/status" ? 200 : 400, `${path}: ${res.status} ${text}`);
  }
  await node.stop();
});

test("HTTP, a stream frame and the simulator's carrier give one answer: same status, same bytes", async () => {
  const node = lone();
  const ping = encodeMessage({ type: "ping", from: "x:1", incarnation: 0, epoch: 0, target: node.id, updates: [] });
  const misdirected = encodeMessage({ type: "ping", from: "x:1", incarnation: 0, epoch: 0, target: "elsewhere:1", updates: [] });
  const carriers = {
    http: async (path: string, body: Uint8Array) => {
      const res = await node.fetch(post(path, body));
      return { status: res.status, body: new Uint8Array(await res.arrayBuffer()) };
    },
    table: (path: string, body: Uint8Array) => node.answerPeer(path, body),
    frames: overFrames(node),
  };
  for (const [name, send] of Object.entries(carriers)) {
    const ok = await send("/_swim/ping", labelled(ping));
    assert.equal(ok.status, 200, name);
    assert.equal(decodeMessage(unlabelled(ok.body)).type, "ack", name);
    const wrong = await send("/_swim/ping", labelled(misdirected));
    assert.equal(wrong.status, 421, `${name}: a ping for another node`);
    const garbage = await send("/_ring/get", labelled(new Uint8Array([1, 2, 3])));
    assert.equal(garbage.status, 400, `${name}: a bad ring message`);
    assert.match(new TextDecoder().decode(garbage.body), /bad message/);
    const big = await send("/_kv/digest", labelled(new Uint8Array(bodyLimits(1024)["/_kv/digest"] + 1)));
    assert.equal(big.status, 413, `${name}: over the path's limit`);
    const foreign = await send("/_swim/ping", labelled(ping, "other"));
    assert.equal(foreign.status, 403, `${name}: another cluster's message`);
    assert.match(new TextDecoder().decode(foreign.body), /cluster 'dht'.*cluster 'other'/);
    const bare = await send("/_swim/ping", ping);
    assert.equal(bare.status, 400, `${name}: a message with no label`);
  }
  const unknown = await node.answerPeer("/_kv/put", new Uint8Array(0));
  assert.equal(unknown.status, 404, "single replica messages are not a path: they travel in batches");
  await node.stop();
});

test("another cluster's message is refused before any handler reads it, counted, and logged once naming both names", async () => {
  const lines: string[] = [];
  const env = testEnv();
  const node = createNode(defaultConfig({ port: 7000, clusterName: "blue" }), { ...env, log: { ...env.log, warn: (event, fields) => lines.push(`${event} ${JSON.stringify(fields)}`) } }, { runtime: "test" });
  const hello = labelled(new TextEncoder().encode("not even msgpack"), "green");
  for (let i = 0; i < 3; i++) assert.equal((await node.answerPeer("/_ring/hello", hello)).status, 403);
  assert.equal((await node.answerPeer("/_kv/batch", labelled(new Uint8Array([0x90])))).status, 403, "the default name is another name too");
  const refusals = lines.filter((l) => l.startsWith("refused a message from another cluster"));
  assert.equal(refusals.length, 2, refusals.join("\n"));
  assert.match(refusals[0]!, /"ours":"blue","theirs":"green"/);
  assert.match(await (await node.fetch(new Request("http://n/metrics"))).text(), /dht_peer_refused_total\{reason="cluster-name"\} 4/);
  await node.stop();
});
