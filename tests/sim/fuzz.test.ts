/**
 * Property-based fuzzing (fast-check) of a running cluster in the simulator: the public
 * API's paths, queries, headers and bodies, and every node-to-node message kind, made by
 * editing real messages one node received (a byte flipped, a cut, a field of any shape).
 * A node never throws past its error mapping, never answers 5xx to bad input, and a
 * request or message it refuses (4xx) changes nothing: not its store, its ring or its
 * members. A bounded number of cases here; `scripts/fuzz.sh` runs many more.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import type { DhtNode } from "../../lib/node.ts";
import { applyByteEdit, applyFieldEdit, body, byteEdit, fieldEdit, fuzzParams } from "../support/fuzz.ts";
import { labelled, unlabelled } from "../support/label.ts";
import { call, formRing, settle, simCluster } from "../support/sim.ts";
import type { PeerReply } from "../../lib/env.ts";
import { overFrames, type SimCluster } from "../../lib/sim/cluster.ts";

/** What a refused request or message must leave as it was. */
function fingerprint(node: DhtNode) {
  return {
    store: JSON.stringify([...node.store.entries()].map(([key, entry]) => [key, entry.version, entry.expires])),
    ring: node.topology.state,
    members: JSON.stringify(node.swim.members().map((m) => [m.id, m.state, m.incarnation])),
  };
}

function assertUnchanged(c: SimCluster, before: Map<string, ReturnType<typeof fingerprint>>, what: string): void {
  for (const [id, was] of before) {
    const now = fingerprint(c.nodes.get(id)!);
    assert.equal(now.store, was.store, `${what} changed ${id}'s store`);
    assert.ok(now.ring === was.ring, `${what} changed ${id}'s ring`);
    assert.equal(now.members, was.members, `${what} changed ${id}'s members`);
  }
}

async function cluster(seed: number) {
  const c = simCluster({ seed, network: { minDelayMs: 1, maxDelayMs: 3, loss: 0 } });
  for (let i = 0; i < 3; i++) c.add();
  assert.ok((await formRing(c, 3)) !== undefined, "the ring formed");
  const ids = c.liveIds();
  for (const k of ["a", "b", "c/d", "ü"]) assert.equal((await call(c, ids[0]!, `PUT /d/${encodeURIComponent(k)}`, "v")).status, 204);
  return { c, ids };
}

const METHODS = ["GET", "PUT", "POST", "DELETE", "HEAD", "PATCH", "OPTIONS", "PROPFIND"];
const PATHS = ["/d/", "/d", "/d//", "/cluster/explain/", "/cluster/locate/", "/cluster/ring", "/cluster/members", "/cluster/recover", "/cluster/sync", "/cluster/events", "/health", "/metrics", "/", "/_kv/stream"];
const segment = fc.oneof(
  fc.string({ maxLength: 20 }).map(encodeURIComponent),
  fc.constantFrom("%", "%zz", "%00", "%ff", "%C3%28", "..", "a/b", "%2F", "k?x", "k#f", "x".repeat(5000)),
  fc.string({ maxLength: 6 }),
);
const QUERY_NAMES = ["ttl", "consistency", "prefix", "after", "limit", "values", "all", "range", "x"];
const query = fc.array(fc.tuple(fc.constantFrom(...QUERY_NAMES), fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom("1", "0", "-1", "1e3", "99999999999", "strong", "%", "%zz"))), { maxLength: 3 })
  .map((pairs) => (pairs.length ? "?" + pairs.map(([n, v]) => `${n}=${v}`).join("&") : ""));
const HEADER_NAMES = ["if-match", "if-none-match", "content-type", "accept", "x-dht-version", "x-dht-expires", "upgrade", "content-encoding", "range"];
const headers = fc.dictionary(fc.constantFrom(...HEADER_NAMES), fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom("*", '"1.1@10.0.0.1:7000"', "W/\"x\"", "websocket", "a".repeat(2000), "text/plain; charset=utf-8")), { maxKeys: 3 });
const clientRequest = fc.record({ method: fc.constantFrom(...METHODS), path: fc.constantFrom(...PATHS), segment, query, headers, body: fc.option(fc.uint8Array({ maxLength: 40 })) });

test("the public API: any path, query, header and body gets a 2xx/3xx/4xx, and a 4xx changes nothing", async () => {
  const { c, ids } = await cluster(31);
  await fc.assert(
    fc.asyncProperty(clientRequest, fc.constantFrom(...ids), async (r, via) => {
      const tail = r.path.endsWith("/") && r.path !== "/" ? r.segment : "";
      let request: Request;
      try {
        const canBody = r.body !== null && r.method !== "GET" && r.method !== "HEAD";
        request = new Request(`http://${via}${r.path}${tail}${r.query}`, { method: r.method, headers: r.headers, body: canBody ? r.body : undefined });
      } catch {
        return; // a request no HTTP client could send (a header value the Headers class refuses)
      }
      await c.run(50); // what earlier requests set going (a conditional write's commit) lands first
      const before = new Map(ids.map((id) => [id, fingerprint(c.nodes.get(id)!)]));
      const response = await c.runUntil(c.nodes.get(via)!.fetch(request), `${r.method} ${request.url}`);
      const text = await response.text();
      assert.ok(response.status < 500, `${r.method} ${request.url} ${JSON.stringify(r.headers)}: ${response.status} ${text}`);
      if (response.status >= 400) {
        if (r.method !== "HEAD") assert.equal(typeof JSON.parse(text).error, "string", `a JSON error for ${r.method} ${request.url}: ${text}`);
        assertUnchanged(c, before, `${r.method} ${request.url} answered ${response.status}`);
      }
    }),
    fuzzParams(),
  );
});

test("node-to-node messages: real ones edited, and made-up ones, get a 2xx/4xx, and a 4xx changes nothing", async () => {
  const { c, ids } = await cluster(32);
  const target = ids[1]!;
  const node = c.nodes.get(target)!;
  // Capture what the target receives while the cluster does every kind of thing.
  const captured: Array<[string, Uint8Array]> = [];
  const deliver = overFrames(node);
  c.network.attach(target, (path, bytes) => {
    captured.push([path, bytes]);
    return deliver(path, bytes);
  });
  for (const k of ["e", "f", "g"]) await call(c, ids[0]!, `PUT /d/${k}`, "w");
  await call(c, ids[2]!, "DELETE /d/e");
  await call(c, ids[0]!, "GET /d/f");
  await call(c, ids[2]!, "PUT /d/h", "x");
  await c.runUntil(c.nodes.get(ids[2]!)!.fetch(new Request(`http://${ids[2]}/d/cas`, { method: "PUT", body: "1", headers: { "if-none-match": "*" } })), "CAS");
  await call(c, ids[0]!, "GET /d?prefix=&limit=10");
  c.add();
  assert.ok((await formRing(c, 4)) !== undefined, "a fourth node joined");
  await c.run(3_000);
  c.network.attach(target, deliver);
  const paths = [...new Set(captured.map(([path]) => path))];
  for (const path of ["/_kv/batch", "/_swim/ping", "/_ring/prepare", "/_ring/accept"]) assert.ok(paths.includes(path), `captured ${path}: ${paths}`);

  const message = fc.oneof(
    fc.tuple(fc.nat(), byteEdit).map(([i, edit]) => {
      const [path, bytes] = captured[i % captured.length]!;
      return { path, bytes: applyByteEdit(bytes, edit) };
    }),
    fc.tuple(fc.nat(), fieldEdit).map(([i, edit]) => {
      const [path, bytes] = captured[i % captured.length]!;
      const edited = applyFieldEdit(unlabelled(bytes), edit);
      return { path, bytes: edited ? labelled(edited) : bytes };
    }),
    fc.tuple(fc.constantFrom(...paths), body).map(([path, bytes]) => ({ path, bytes: labelled(bytes) })),
  );
  await fc.assert(
    fc.asyncProperty(message, async ({ path, bytes }) => {
      await c.run(50);
      const before = new Map([[target, fingerprint(node)]]);
      // A refusal is answered before any time passes: checked then, so that nothing an
      // earlier, accepted message set going (a suspicion refuted, say) is taken for its doing.
      let reply: PeerReply | undefined;
      const answered = node.answerPeer(path, bytes).then((r) => (reply = r));
      await settle();
      if (reply && reply.status >= 400) assertUnchanged(c, before, `${path} answered ${reply.status}`);
      reply ??= await c.runUntil(answered, `${path} of ${bytes.byteLength} bytes`);
      assert.ok(reply.status < 500, `${path}: ${reply.status} ${new TextDecoder().decode(reply.body).slice(0, 200)}`);
    }),
    fuzzParams(),
  );
});
