import { test } from "node:test";
import assert from "node:assert/strict";
import { admitted, isPeerRoute, RETRY_AFTER_SECONDS } from "../../lib/http/admission.ts";
import { Metrics } from "../../lib/metrics.ts";

/** A handler whose answers wait until the test releases them. */
function heldHandler() {
  const waiting: Array<() => void> = [];
  const fetch = (_request: Request) => new Promise<Response>((resolve) => waiting.push(() => resolve(new Response("ok"))));
  return { fetch, releaseAll: () => waiting.splice(0).forEach((release) => release()), held: () => waiting.length };
}

test("past --max-client-requests a client request is a 503 with Retry-After at once; freed places admit again", async () => {
  const handler = heldHandler();
  const metrics = new Metrics();
  const fetch = admitted(handler.fetch, 2, metrics);
  const first = [fetch(new Request("http://n/d/a")), fetch(new Request("http://n/cluster/ring"))];
  const shed = await fetch(new Request("http://n/d/b", { method: "PUT", body: "v" }));
  assert.equal(shed.status, 503);
  assert.equal(shed.headers.get("retry-after"), String(RETRY_AFTER_SECONDS));
  assert.match((await shed.json()).error, /overloaded: 2 client requests in flight \(--max-client-requests\)/);
  assert.equal(handler.held(), 2, "the shed request never reached the handler");
  assert.match(metrics.render(), /dht_client_requests_shed_total 1\n/);
  assert.match(metrics.render(), /dht_client_requests_in_flight 2\n/);

  handler.releaseAll();
  for (const r of await Promise.all(first)) assert.equal(r.status, 200);
  const again = fetch(new Request("http://n/d/b"));
  handler.releaseAll();
  assert.equal((await again).status, 200);
  assert.match(metrics.render(), /dht_client_requests_in_flight 0\n/);
});

test("node-to-node routes are never shed, and take no client place", async () => {
  const handler = heldHandler();
  const fetch = admitted(handler.fetch, 1, new Metrics());
  const client = fetch(new Request("http://n/d/a"));
  const peers = ["/_swim/ping", "/_kv/batch", "/_ring/accept"].map((path) => fetch(new Request(`http://n${path}`, { method: "POST", body: "x" })));
  assert.equal(handler.held(), 4);
  handler.releaseAll();
  for (const r of await Promise.all([client, ...peers])) assert.equal(r.status, 200);
});

test("isPeerRoute reads the path off the URL text", () => {
  const table: Array<[string, boolean]> = [
    ["http://10.0.0.1:8000/_swim/ping", true],
    ["https://[::1]:8000/_kv/batch", true],
    ["http://n/d/_kv", false],
    ["http://n/", false],
    ["http://n", false],
    ["http://n/cluster/ring?x=/_", false],
  ];
  for (const [url, peer] of table) assert.equal(isPeerRoute(url), peer, url);
});

test("an answer given in the same turn comes back as it is, and frees its place; so does a handler that throws", async () => {
  const metrics = new Metrics();
  const answer = new Response("now");
  let fail = false;
  const fetch = admitted(() => {
    if (fail) throw new Error("broken");
    return answer;
  }, 1, metrics);
  assert.equal(fetch(new Request("http://n/d/a")), answer, "not wrapped in a promise");
  assert.equal(fetch(new Request("http://n/d/a")), answer, "the first one's place was freed");
  fail = true;
  assert.throws(() => fetch(new Request("http://n/d/a")), /broken/);
  fail = false;
  assert.equal(fetch(new Request("http://n/d/a")), answer, "the thrown one's place was freed");
  assert.match(metrics.render(), /dht_client_requests_in_flight 0\n/);
});
