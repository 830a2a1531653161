/** Conditional writes through one node's `fetch`: If-Match, If-None-Match, 412s and bad headers (SPEC.md, "Conditional writes"). */
import { test } from "node:test";
import assert from "node:assert/strict";
import { defaultConfig } from "../../lib/config.ts";
import { createNode } from "../../lib/node.ts";
import { req, testEnv } from "../support/env.ts";

function oneNode() {
  const node = createNode(defaultConfig({ port: 8000 }), testEnv(), { runtime: "test" });
  return (line: string, body?: BodyInit, headers?: Record<string, string>) => node.fetch(req(line, body, headers));
}

test("If-None-Match: * creates once; the second gets 412 naming the version that won", async () => {
  const call = oneNode();
  const first = await call("PUT /d/lock", "a", { "if-none-match": "*" });
  assert.equal(first.status, 204);
  const version = first.headers.get("x-dht-version")!;
  const second = await call("PUT /d/lock", "b", { "if-none-match": "*" });
  assert.equal(second.status, 412);
  assert.deepEqual(await second.json(), { error: `the key holds version ${version}`, current: version });
  assert.equal(await (await call("GET /d/lock")).text(), "a");
});

test("If-Match writes only over exactly that version, and answers the new one; GET and HEAD give the version they read", async () => {
  const call = oneNode();
  const v1 = (await call("PUT /d/k", "one")).headers.get("x-dht-version")!;
  const got = await call("GET /d/k");
  assert.equal(got.headers.get("x-dht-version"), v1);
  await got.text();
  const cas = await call("PUT /d/k", "two", { "if-match": `"${v1}"` });
  assert.equal(cas.status, 204);
  const v2 = cas.headers.get("x-dht-version")!;
  assert.notEqual(v2, v1);
  assert.equal((await call("HEAD /d/k")).headers.get("x-dht-version"), v2);
  const stale = await call("POST /d/k", "three", { "if-match": `"${v1}"` });
  assert.equal(stale.status, 412);
  assert.equal((await stale.json()).current, v2);
  // A plain write in between makes a CAS over the version before it fail.
  const v3 = (await call("PUT /d/k", "plain")).headers.get("x-dht-version")!;
  const late = await call("PUT /d/k", "four", { "if-match": `"${v2}"` });
  assert.equal(late.status, 412);
  assert.equal((await late.json()).current, v3);
  assert.equal((await call("PUT /d/k", "five", { "if-match": `"${v3}"` })).status, 204);
});

test("conditional DELETE: If-Match removes only that version; If-Match on an absent key is 412 with current null", async () => {
  const call = oneNode();
  const v1 = (await call("PUT /d/k", "one")).headers.get("x-dht-version")!;
  assert.equal((await call("DELETE /d/k", undefined, { "if-match": '"1.0@127.0.0.1:8000"' })).status, 412);
  const removed = await call("DELETE /d/k", undefined, { "if-match": `"${v1}"` });
  assert.equal(removed.status, 204);
  assert.ok(removed.headers.get("x-dht-version"));
  assert.equal((await call("GET /d/k")).status, 404);
  const absent = await call("PUT /d/k", "x", { "if-match": `"${v1}"` });
  assert.equal(absent.status, 412);
  assert.deepEqual(await absent.json(), { error: "the key holds no value", current: null });
  // Deleted counts as absent for If-None-Match; If-Match: * needs a live value.
  assert.equal((await call("PUT /d/k", "y", { "if-match": "*" })).status, 412);
  assert.equal((await call("PUT /d/k", "y", { "if-none-match": "*" })).status, 204);
  assert.equal((await call("PUT /d/k", "z", { "if-match": "*" })).status, 204);
  // A plain DELETE answers the tombstone's version too.
  assert.match((await call("DELETE /d/k")).headers.get("x-dht-version")!, /^\d+\.\d+@/);
});

test("malformed or contradictory preconditions are 400 with a reason, and change nothing", async () => {
  const call = oneNode();
  const v1 = (await call("PUT /d/k", "one")).headers.get("x-dht-version")!;
  const bad: Array<[string, Record<string, string>, RegExp]> = [
    ["PUT /d/k", { "if-match": v1 }, /double quotes/],
    ["PUT /d/k", { "if-match": `W/"${v1}"` }, /double quotes/],
    ["PUT /d/k", { "if-match": `"${v1}", "${v1}"` }, /double quotes/],
    ["PUT /d/k", { "if-match": '"not a version"' }, /double quotes/],
    ["PUT /d/k", { "if-match": '"99999999999999999.0@a:1"' }, /double quotes/],
    ["DELETE /d/k", { "if-match": '""' }, /double quotes/],
    ["PUT /d/k", { "if-match": `"${v1}"`, "if-none-match": "*" }, /not both/],
    ["PUT /d/k", { "if-none-match": `"${v1}"` }, /must be \*/],
    ["PUT /d/k?consistency=one", { "if-match": `"${v1}"` }, /quorum/],
  ];
  for (const [line, headers, reason] of bad) {
    const res = await call(line, "changed", headers);
    assert.equal(res.status, 400, `${line} ${JSON.stringify(headers)}`);
    assert.match((await res.json()).error, reason);
  }
  const got = await call("GET /d/k");
  assert.equal(await got.text(), "one");
  assert.equal(got.headers.get("x-dht-version"), v1);
});

test("/metrics counts conditional writes: attempts, wins and 412s", async () => {
  const call = oneNode();
  await call("PUT /d/m", "a", { "if-none-match": "*" });
  await call("PUT /d/m", "b", { "if-none-match": "*" });
  const text = await (await call("GET /metrics")).text();
  assert.match(text, /^dht_cas_attempts_total 2$/m);
  assert.match(text, /^dht_cas_wins_total 1$/m);
  assert.match(text, /^dht_cas_precondition_failed_total 1$/m);
  assert.doesNotMatch(text, /^dht_cas_ballot_retries_total [1-9]/m, "no contention, no retries");
});

test("where a key lives, with ?versions, shows each owner's expiry and its Paxos state", async () => {
  const call = oneNode();
  await call("PUT /d/lease?ttl=30", "me", { "if-none-match": "*" });
  const located = await (await call("GET /cluster/locate/lease?versions")).json();
  const [copy] = located.copies;
  assert.match(copy.version, /\+1:/, "a conditional write's version");
  assert.equal(typeof copy.expires, "number");
  assert.match(copy.promised, /^\d+\.\d+\.\d+@127\.0\.0\.1:8000$/);
  assert.equal(copy.pending, undefined, "committed: nothing pending");
});
