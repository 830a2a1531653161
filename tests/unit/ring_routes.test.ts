import { test } from "node:test";
import assert from "node:assert/strict";
import { defaultConfig } from "../../lib/config.ts";
import { createNode } from "../../lib/node.ts";
import { positionHex, ringPosition } from "../../lib/ring/hash.ts";
import { req, testEnv } from "../support/env.ts";

function startedNode() {
  const node = createNode(defaultConfig({ port: 7000, vnodes: 16 }), testEnv(), { runtime: "test" });
  node.start();
  return node;
}

test("GET /cluster/ring lists every virtual node, in order, with its owner and the checksum", async () => {
  const node = await startedNode();
  const body = await (await node.fetch(req("GET /cluster/ring"))).json();
  assert.deepEqual(body.members, ["127.0.0.1:7000"]);
  assert.equal(body.vnodesPerMember, 16);
  assert.equal(body.vnodes.length, 16);
  assert.match(body.checksum, /^[0-9a-f]{8}$/);
  const positions = body.vnodes.map((v: { position: string }) => v.position);
  assert.deepEqual([...positions].sort(), positions);
  assert.equal((await (await node.fetch(req("GET /health"))).json()).ringChecksum, body.checksum);
  await node.stop();
});

test("GET /cluster/locate/{key} gives the key's position and preference list", async () => {
  const node = await startedNode();
  const res = await node.fetch(req(`GET /cluster/locate/${encodeURIComponent("user/42")}`));
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), {
    key: "user/42",
    position: positionHex(ringPosition("user/42")),
    epoch: 1,
    replicas: ["127.0.0.1:7000"],
  });
  assert.equal((await node.fetch(req("GET /cluster/locate/%FF"))).status, 400);
  assert.equal((await node.fetch(req(`GET /cluster/locate/${"k".repeat(1025)}`))).status, 414);
  await node.stop();
});
