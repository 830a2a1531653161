/** Expiry (`?ttl=`) through one node's `fetch`: served until the deadline less the skew allowance, 404 after, purged later. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { defaultConfig } from "../../lib/config.ts";
import { createNode } from "../../lib/node.ts";
import { req, testEnv } from "../support/env.ts";

function oneNode(overrides: Parameters<typeof defaultConfig>[0] = { port: 8000 }) {
  const env = testEnv();
  const node = createNode(defaultConfig(overrides), env, { runtime: "test" });
  return { node, env, call: (line: string, body?: BodyInit, headers?: Record<string, string>) => node.fetch(req(line, body, headers)) };
}

test("a value with ?ttl= is served until its expiry less --expiry-skew-ms, then reads as absent everywhere in the API", async () => {
  const { call, env } = oneNode({ port: 8000, expirySkewMs: 1_000 });
  const start = env.clock.now();
  const put = await call("PUT /d/k?ttl=10", "v");
  assert.equal(put.status, 204);
  assert.equal(put.headers.get("x-dht-expires"), String(start + 10_000));
  const head = await call("HEAD /d/k");
  assert.equal(head.headers.get("x-dht-expires"), String(start + 10_000));
  env.clock.advance(8_999);
  assert.equal((await call("GET /d/k")).status, 200);
  env.clock.advance(1);
  assert.equal((await call("GET /d/k")).status, 404, "within the skew allowance of its expiry: no longer served");
  assert.equal((await call("DELETE /d/k")).status, 404);
  // Expired counts as absent for a create-only write, which may give the key a new life.
  assert.equal((await call("PUT /d/k?ttl=5", "again", { "if-none-match": "*" })).status, 204);
  assert.equal(await (await call("GET /d/k")).text(), "again");
});

test("a plain write without ttl over an expiring value makes it permanent; a renewal by If-Match moves the expiry", async () => {
  const { call, env } = oneNode();
  const v1 = (await call("PUT /d/lease?ttl=10", "me", { "if-none-match": "*" })).headers.get("x-dht-version")!;
  env.clock.advance(5_000);
  const renewed = await call("PUT /d/lease?ttl=10", "me", { "if-match": `"${v1}"` });
  assert.equal(renewed.status, 204);
  assert.equal(Number(renewed.headers.get("x-dht-expires")), env.clock.now() + 10_000);
  env.clock.advance(8_000);
  assert.equal((await call("GET /d/lease")).status, 200, "renewed: still held past the first expiry");
  await call("PUT /d/lease", "forever");
  env.clock.advance(60_000);
  const got = await call("HEAD /d/lease");
  assert.equal(got.status, 200);
  assert.equal(got.headers.get("x-dht-expires"), null);
});

test("expired entries are purged a grace period after their expiry, by the node's own timer", async () => {
  const { call, node, env } = oneNode({ port: 8000, tombstoneGraceMs: 10_000 });
  node.start();
  await call("PUT /d/k?ttl=1", "v");
  env.clock.advance(5_000);
  assert.equal(node.store.size, 1, "expired, kept within the grace period");
  env.clock.advance(10_000);
  assert.equal(node.store.size, 0);
  assert.match(node.metrics.render(), /^dht_expired_purged_total 1$/m);
  await node.stop();
});

test("a ttl that is not a whole number of seconds from 1 to a year, or one on DELETE, is 400 and changes nothing", async () => {
  const { call } = oneNode();
  await call("PUT /d/k", "before");
  for (const [line, reason] of [
    ["PUT /d/k?ttl=0", /whole number/],
    ["PUT /d/k?ttl=-5", /whole number/],
    ["PUT /d/k?ttl=1.5", /whole number/],
    ["PUT /d/k?ttl=abc", /whole number/],
    ["PUT /d/k?ttl=", /whole number/],
    ["PUT /d/k?ttl=31536001", /whole number/],
    ["PUT /d/k?ttl=1&ttl=2", /whole number/],
    ["DELETE /d/k?ttl=5", /not to DELETE/],
  ] as const) {
    const res = await call(line, "after");
    assert.equal(res.status, 400, line);
    assert.match((await res.json()).error, reason);
  }
  assert.equal(await (await call("GET /d/k")).text(), "before");
  assert.equal((await call("PUT /d/k?ttl=31536000", "a year")).status, 204);
});
