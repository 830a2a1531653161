/** Listing keys (`GET /d?prefix=&after=&limit=`) through one node's `fetch`, and its bad input. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { defaultConfig } from "../../lib/config.ts";
import { createNode } from "../../lib/node.ts";
import { req, testEnv } from "../support/env.ts";

function oneNode() {
  const env = testEnv();
  const node = createNode(defaultConfig({ port: 8000 }), env, { runtime: "test" });
  return { env, call: (line: string, body?: BodyInit) => node.fetch(req(line, body)) };
}

test("pages through live keys with a prefix in key order, each once, skipping deleted and expired ones", async () => {
  const { call, env } = oneNode();
  for (let i = 0; i < 25; i++) await call(`PUT /d/user:${String(i).padStart(2, "0")}`, `v${i}`);
  await call("PUT /d/other", "x");
  await call("DELETE /d/user:03");
  await call("PUT /d/user:07?ttl=1", "short");
  env.clock.advance(1_000);
  const seen: string[] = [];
  let after: string | null = null;
  for (let pages = 0; pages < 10; pages++) {
    const res = await call(`GET /d?prefix=user%3A&limit=10${after ? `&after=${encodeURIComponent(after)}` : ""}`);
    assert.equal(res.status, 200);
    const page = await res.json();
    seen.push(...page.keys);
    after = page.next;
    if (!after) break;
  }
  const expected = Array.from({ length: 25 }, (_, i) => `user:${String(i).padStart(2, "0")}`).filter((k) => k !== "user:03" && k !== "user:07");
  assert.deepEqual(seen, expected);
  const all = await (await call("GET /d")).json();
  assert.deepEqual(all.keys.at(0), "other");
  assert.equal(all.next, null);
});

test("?values=1 carries each value inline, base64", async () => {
  const { call } = oneNode();
  await call("PUT /d/a", "hello");
  await call("PUT /d/b", new Uint8Array([0, 255]));
  const page = await (await call("GET /d?values=1")).json();
  assert.deepEqual(page, { keys: ["a", "b"], next: null, values: [btoa("hello"), btoa("\u0000\u00ff")] });
});

test("a malformed listing is 400 with a reason", async () => {
  const { call } = oneNode();
  for (const [query, reason] of [
    ["limit=0", /limit/],
    ["limit=1001", /limit/],
    ["limit=ten", /limit/],
    ["limit=1&limit=2", /twice/],
    ["after=%E2%82", /percent-encoded/],
    ["prefix=%zz", /percent-encoded/],
    ["after=", /after is empty/],
    ["values=yes", /values/],
    [`prefix=${"x".repeat(1025)}`, /longer than a key/],
  ] as const) {
    const res = await call(`GET /d?${query}`);
    assert.equal(res.status, 400, query);
    assert.match((await res.json()).error, reason);
  }
  assert.equal((await call("PUT /d")).status, 400, "a write to /d still needs a key");
});
