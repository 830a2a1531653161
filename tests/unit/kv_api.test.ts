/** The KV API of SPEC.md, against one node's `fetch`: no port, no sockets. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { defaultConfig } from "../../lib/config.ts";
import { createNode } from "../../lib/node.ts";
import { compareVersions, parseVersion } from "../../lib/store/version.ts";
import { req, testEnv } from "../support/env.ts";

function oneNode(overrides: Parameters<typeof defaultConfig>[0] = { port: 8000 }) {
  const env = testEnv();
  const node = createNode(defaultConfig(overrides), env, { runtime: "test" });
  return { node, env, call: (line: string, body?: BodyInit, headers?: Record<string, string>) => node.fetch(req(line, body, headers)) };
}

async function json(response: Response): Promise<Record<string, unknown>> {
  assert.equal(response.headers.get("content-type"), "application/json");
  return await response.json() as Record<string, unknown>;
}

test("PUT then GET returns exactly the bytes stored, with their Content-Type", async () => {
  const { call } = oneNode();
  const value = new Uint8Array([0, 1, 2, 255, 254, 0x0d, 0x0a, 0]);
  const put = await call("PUT /d/bin", value, { "content-type": "application/x-thing" });
  assert.equal(put.status, 204);
  assert.match(put.headers.get("x-dht-version")!, /^\d+\.\d+@127\.0\.0\.1:8000$/);
  const got = await call("GET /d/bin");
  assert.equal(got.status, 200);
  assert.equal(got.headers.get("content-type"), "application/x-thing");
  assert.deepEqual(new Uint8Array(await got.arrayBuffer()), value);
});

test("POST stores like PUT; a form-encoded body (curl -d) is stored raw", async () => {
  const { call } = oneNode();
  assert.equal((await call("POST /d/k", "a=1&b=%20", { "content-type": "application/x-www-form-urlencoded" })).status, 204);
  const got = await call("GET /d/k");
  assert.equal(await got.text(), "a=1&b=%20");
  assert.equal(got.headers.get("content-type"), "application/x-www-form-urlencoded");
});

test("a value written without a Content-Type reads back as application/octet-stream", async () => {
  const { call } = oneNode();
  await call("PUT /d/k", new Uint8Array([1, 2]));
  assert.equal((await call("GET /d/k")).headers.get("content-type"), "application/octet-stream");
});

test("an empty value is a value", async () => {
  const { call } = oneNode();
  assert.equal((await call("PUT /d/empty")).status, 204);
  const got = await call("GET /d/empty");
  assert.equal(got.status, 200);
  assert.equal((await got.arrayBuffer()).byteLength, 0);
});

test("GET of an absent key is 404 with a JSON error", async () => {
  const { call } = oneNode();
  const res = await call("GET /d/nothing");
  assert.equal(res.status, 404);
  assert.match(String((await json(res)).error), /not found/);
});

test("DELETE answers 204 when the key existed, then 404; the key reads as absent", async () => {
  const { call } = oneNode();
  await call("PUT /d/k", "v");
  assert.equal((await call("DELETE /d/k")).status, 204);
  assert.equal((await call("GET /d/k")).status, 404);
  const again = await call("DELETE /d/k");
  assert.equal(again.status, 404);
  await json(again);
  assert.equal((await call("DELETE /d/never")).status, 404);
});

test("a key written after its delete reads back with a newer version", async () => {
  const { call } = oneNode();
  const v1 = (await call("PUT /d/k", "one")).headers.get("x-dht-version");
  await call("DELETE /d/k");
  const v2 = (await call("PUT /d/k", "two")).headers.get("x-dht-version");
  assert.equal(await (await call("GET /d/k")).text(), "two");
  assert.equal((await call("HEAD /d/k")).headers.get("x-dht-version"), v2);
  assert.ok(compareVersions(parseVersion(v1!)!, parseVersion(v2!)!) < 0, `${v1} < ${v2}`);
});

test("overwrites return the newest value even when the wall clock goes backwards", async () => {
  const { call, env } = oneNode();
  await call("PUT /d/k", "first");
  env.clock.set(env.clock.now() - 60_000);
  await call("PUT /d/k", "second");
  assert.equal(await (await call("GET /d/k")).text(), "second");
});

test("keys are one percent-decoded path segment: '/', spaces and non-ASCII round-trip", async () => {
  const { call } = oneNode();
  const keys = ["a/b", "with space", "ключ", "日本語", "emoji 🎉", "100%", "?&=#", "a+b", "..."];
  for (const [i, key] of keys.entries()) {
    const path = `/d/${encodeURIComponent(key)}`;
    assert.equal((await call(`PUT ${path}`, `value ${i}`)).status, 204, key);
  }
  for (const [i, key] of keys.entries()) {
    const got = await call(`GET /d/${encodeURIComponent(key)}`);
    assert.equal(await got.text(), `value ${i}`, key);
  }
  assert.equal((await call("GET /d/a")).status, 404, "a/b is not a");
});

test("a key of exactly 1024 bytes is accepted; 1025 is 414", async () => {
  const { call } = oneNode();
  const max = "é".repeat(512); // 1024 bytes
  assert.equal((await call(`PUT /d/${encodeURIComponent(max)}`, "v")).status, 204);
  assert.equal((await call(`GET /d/${encodeURIComponent(max)}`)).status, 200);
  const long = await call(`PUT /d/${encodeURIComponent(max + "x")}`, "v");
  assert.equal(long.status, 414);
  assert.deepEqual(await json(long), { error: "key is 1025 bytes; the limit is 1024", bytes: 1025, maxBytes: 1024 });
});

test("empty keys, unencoded slashes and bad percent-encoding are 400 with a reason", async () => {
  const { call } = oneNode();
  const table: Array<[string, RegExp]> = [
    ["PUT /d/", /key is empty/],
    ["DELETE /d", /key is empty/],
    ["PUT /d/a/b", /encode '\/' in a key as %2F/],
    ["GET /d/%E0%A4%A", /not valid percent-encoded/],
    ["GET /d/%FF", /not valid percent-encoded/],
    ["GET /d/%ED%A0%80", /not valid percent-encoded/],
  ];
  for (const [line, pattern] of table) {
    const res = await call(line, line.startsWith("PUT") ? "v" : undefined);
    assert.equal(res.status, 400, line);
    assert.match(String((await json(res)).error), pattern, line);
  }
});

test("a value over --max-value-bytes is 413, by Content-Length or while streaming", async () => {
  const { call, node } = oneNode({ port: 8000, maxValueBytes: 1000 });
  assert.equal((await call("PUT /d/ok", new Uint8Array(1000))).status, 204);
  const declared = await call("PUT /d/big", new Uint8Array(1001));
  assert.equal(declared.status, 413);
  assert.deepEqual(await json(declared), { error: "value is larger than 1000 bytes", maxBytes: 1000 });

  // A chunked body with no Content-Length: cut off at the first chunk past the limit,
  // without pulling the rest of an endless stream.
  let pulled = 0;
  const endless = new ReadableStream<Uint8Array>({
    pull(controller) {
      pulled++;
      controller.enqueue(new Uint8Array(300));
    },
  });
  const streamed = await node.fetch(new Request("http://node.test/d/stream", { method: "PUT", body: endless, duplex: "half" } as RequestInit));
  assert.equal(streamed.status, 413);
  assert.ok(pulled <= 6, `pulled ${pulled} chunks of an endless body`);
  assert.equal((await call("GET /d/big")).status, 404);
  assert.equal((await call("GET /d/stream")).status, 404);
});

test("HEAD answers like GET without a body, and with the stored version", async () => {
  const { call } = oneNode();
  const put = await call("PUT /d/k", "12345", { "content-type": "text/plain" });
  const head = await call("HEAD /d/k");
  assert.equal(head.status, 200);
  assert.equal(head.headers.get("x-dht-version"), put.headers.get("x-dht-version"));
  assert.equal(head.headers.get("content-length"), "5");
  assert.equal(head.headers.get("content-type"), "text/plain");
  assert.equal((await head.arrayBuffer()).byteLength, 0);
  assert.equal((await call("HEAD /d/none")).status, 404);
});

test("other methods on a key are 405 with Allow; unknown routes are a JSON 404", async () => {
  const { call } = oneNode();
  const patch = await call("PATCH /d/k", "x");
  assert.equal(patch.status, 405);
  assert.equal(patch.headers.get("allow"), "GET, HEAD, PUT, POST, DELETE");
  await json(patch);
  const nowhere = await call("GET /nowhere");
  assert.equal(nowhere.status, 404);
  assert.match(String((await json(nowhere)).error), /no route for GET \/nowhere/);
});

test("GET /health reports the node's id and what it holds", async () => {
  const { call } = oneNode({ port: 8123 });
  await call("PUT /d/a", "xyz");
  const body = await json(await call("GET /health"));
  assert.equal(body.status, "ok");
  assert.equal(body.id, "127.0.0.1:8123");
  assert.equal(body.runtime, "test");
  assert.equal(body.liveKeys, 1);
  assert.equal(body.bytes, 4);
});

test("GET /cluster/members lists the node itself as alive", async () => {
  const { call } = oneNode({ port: 8123 });
  const body = await json(await call("GET /cluster/members"));
  assert.equal(body.self, "127.0.0.1:8123");
  assert.equal(body.incarnation, 0);
  const members = body.members as Array<Record<string, unknown>>;
  assert.equal(members.length, 1);
  assert.deepEqual({ id: members[0]!.id, state: members[0]!.state, incarnation: members[0]!.incarnation }, { id: "127.0.0.1:8123", state: "alive", incarnation: 0 });
});

test("GET /metrics counts requests by route and status, latency, keys and bytes", async () => {
  const { call } = oneNode();
  await call("PUT /d/a", "12");
  await call("PUT /d/b", "345");
  await call("GET /d/a");
  await call("GET /d/missing");
  const res = await call("GET /metrics");
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type")!, /^text\/plain; version=0\.0\.4/);
  const text = await res.text();
  assert.match(text, /dht_http_requests_total\{method="PUT",route="\/d\/:key",status="204"\} 2\n/);
  assert.match(text, /dht_http_requests_total\{method="GET",route="\/d\/:key",status="200"\} 1\n/);
  assert.match(text, /dht_http_requests_total\{method="GET",route="\/d\/:key",status="404"\} 1\n/);
  assert.match(text, /dht_http_request_duration_seconds_count\{route="\/d\/:key"\} 4\n/);
  assert.match(text, /\ndht_keys 2\n/);
  assert.match(text, /\ndht_stored_bytes 7\n/);
});

test("tombstones are purged after the grace period, by the node's own timer", async () => {
  const { call, node, env } = oneNode({ port: 8000, tombstoneGraceMs: 10_000 });
  node.start();
  await call("PUT /d/k", "v");
  await call("DELETE /d/k");
  assert.equal(node.store.stats().tombstones, 1);
  env.clock.advance(5_000);
  assert.equal(node.store.stats().tombstones, 1, "kept within the grace period");
  env.clock.advance(10_000);
  assert.equal(node.store.stats().tombstones, 0);
  assert.equal(node.metrics.render().match(/dht_tombstones_purged_total (\d+)/)?.[1], "1");
  await node.stop();
  assert.equal(env.clock.pending, 0, "stop leaves no timer behind");
});

test("malformed requests never crash the node: it keeps serving", async () => {
  const { call } = oneNode();
  // `/d/%2e%2e` is navigated to `/` by URL parsing before any route sees it; PUT there is a 404 (GET is the dashboard).
  const nasty = ["GET /d/%", "PUT /d/%%%", "DELETE /d/%C0%AF", "GET /d//", "PUT /d/%2e%2e", "OPTIONS /d/k", "GET /cluster/../d/x"];
  for (const line of nasty) {
    const res = await call(line);
    assert.ok(res.status >= 400 && res.status < 500, `${line} → ${res.status}`);
  }
  assert.equal((await call("PUT /d/still", "fine")).status, 204);
});
