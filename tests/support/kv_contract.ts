/**
 * The key-value contract (SPEC's REST API), written once and run against every kind of
 * deployment: a lone node called in-process, a simulated cluster, real processes. A
 * target sends a request through one of its nodes; the contract writes through one node
 * and reads through another wherever a target has several.
 */
import assert from "node:assert/strict";

export interface KvTarget {
  /** How many nodes requests can go through. */
  nodes: number;
  /** Sends a request through node `via` (mod nodes). */
  send(via: number, method: string, path: string, body?: BodyInit, headers?: Record<string, string>): Promise<Response>;
}

/** The value limit the target's nodes were started with (`--max-value-bytes`). */
export const CONTRACT_MAX_VALUE_BYTES = 4096;

const enc = (key: string) => `/d/${encodeURIComponent(key)}`;
const bytes = (n: number, seed = 1) => new Uint8Array(n).map((_, i) => (i * 31 + seed) % 256);

async function errorOf(res: Response): Promise<string> {
  assert.equal(res.headers.get("content-type"), "application/json", `a JSON error for ${res.status}`);
  const body = await res.json();
  assert.equal(typeof body.error, "string");
  return body.error;
}

/** Runs every case of the contract against `t`; a failure names its case. */
export async function kvContract(t: KvTarget): Promise<void> {
  const other = (i: number) => (i + 1) % t.nodes;
  const cases: Array<[string, () => Promise<void>]> = [
    ["PUT then GET through another node returns exactly the bytes, with their Content-Type", async () => {
      const value = bytes(1000);
      const put = await t.send(0, "PUT", enc("photo"), value, { "content-type": "image/x-test" });
      assert.equal(put.status, 204);
      assert.match(put.headers.get("x-dht-version") ?? "", /^\d+\.\d+@.+/);
      const got = await t.send(other(0), "GET", enc("photo"));
      assert.equal(got.status, 200);
      assert.equal(got.headers.get("content-type"), "image/x-test");
      assert.deepEqual(new Uint8Array(await got.arrayBuffer()), value);
    }],
    ["POST stores like PUT; no Content-Type reads back as application/octet-stream", async () => {
      assert.equal((await t.send(1, "POST", enc("form"), "value")).status, 204);
      const got = await t.send(0, "GET", enc("form"));
      assert.equal(await got.text(), "value");
      assert.match(got.headers.get("content-type") ?? "", /^(application\/octet-stream|text\/plain)/);
    }],
    ["a content-type of 1024 characters is stored; 1025 is 400 through any node, and nothing is written", async () => {
      const longest = `text/x-${"a".repeat(1017)}`;
      assert.equal((await t.send(0, "PUT", enc("typed"), "v", { "content-type": longest })).status, 204);
      assert.equal((await t.send(other(0), "GET", enc("typed"))).headers.get("content-type"), longest);
      for (let i = 0; i < t.nodes; i++) {
        const res = await t.send(i, "PUT", enc("typed"), "w", { "content-type": longest + "b" });
        assert.equal(res.status, 400, `through node ${i}`);
        assert.match(await errorOf(res), /content-type is 1025 characters/);
      }
      assert.equal(await (await t.send(0, "GET", enc("typed"))).text(), "v");
    }],
    ["an absent key is a 404 with a JSON error", async () => {
      const res = await t.send(0, "GET", enc("never written"));
      assert.equal(res.status, 404);
      assert.match(await errorOf(res), /not found/);
    }],
    ["DELETE answers 204, then 404; the key reads as absent everywhere", async () => {
      await t.send(0, "PUT", enc("gone"), "v");
      assert.equal((await t.send(other(0), "DELETE", enc("gone"))).status, 204);
      assert.equal((await t.send(0, "DELETE", enc("gone"))).status, 404);
      for (let i = 0; i < t.nodes; i++) assert.equal((await t.send(i, "GET", enc("gone"))).status, 404, `through node ${i}`);
    }],
    ["a key written after its delete reads back with a newer version", async () => {
      const first = (await t.send(0, "PUT", enc("again"), "one")).headers.get("x-dht-version")!;
      await t.send(1, "DELETE", enc("again"));
      const second = (await t.send(other(1), "PUT", enc("again"), "two")).headers.get("x-dht-version")!;
      assert.notEqual(first, second);
      assert.equal(await (await t.send(0, "GET", enc("again"))).text(), "two");
    }],
    ["an overwrite is what every later read sees", async () => {
      for (let i = 0; i < 4; i++) {
        assert.equal((await t.send(i, "PUT", enc("counter"), String(i))).status, 204);
        for (let j = 0; j < t.nodes; j++) assert.equal(await (await t.send(j, "GET", enc("counter"))).text(), String(i), `write ${i} read through ${j}`);
      }
    }],
    ["keys are one percent-decoded segment: '/', spaces and non-ASCII round-trip", async () => {
      for (const key of ["a/b", "with space", "ключ ✓", "%", "?&#"]) {
        assert.equal((await t.send(0, "PUT", enc(key), key)).status, 204, key);
        assert.equal(await (await t.send(other(0), "GET", enc(key))).text(), key, key);
      }
    }],
    ["compare-and-set through one node is seen by another: create once, update only over the version read, 412 otherwise", async () => {
      const created = await t.send(0, "PUT", enc("cas ✓"), "one", { "if-none-match": "*" });
      assert.equal(created.status, 204);
      const again = await t.send(other(0), "PUT", enc("cas ✓"), "two", { "if-none-match": "*" });
      assert.equal(again.status, 412);
      const got = await t.send(other(0), "GET", enc("cas ✓"));
      assert.equal(await got.text(), "one");
      const version = got.headers.get("x-dht-version")!;
      assert.equal(version, created.headers.get("x-dht-version"));
      assert.equal((await t.send(0, "PUT", enc("cas ✓"), "two", { "if-match": `"${version}"` })).status, 204);
      const stale = await t.send(other(0), "DELETE", enc("cas ✓"), undefined, { "if-match": `"${version}"` });
      assert.equal(stale.status, 412);
      assert.notEqual((await stale.json()).current, version);
    }],
    ["GET /d?prefix= lists live keys in order through any node, paging with next", async () => {
      for (const k of ["list/b", "list/a", "list/c", "list/d"]) assert.equal((await t.send(0, "PUT", enc(k), "v")).status, 204);
      assert.equal((await t.send(other(0), "DELETE", enc("list/c"))).status, 204);
      const first = await (await t.send(other(0), "GET", "/d?prefix=list%2F&limit=2")).json();
      assert.deepEqual(first, { keys: ["list/a", "list/b"], next: "list/b" });
      const rest = await (await t.send(0, "GET", `/d?prefix=list%2F&limit=2&after=${encodeURIComponent(first.next)}`)).json();
      assert.deepEqual(rest.keys, ["list/d"]);
    }],
    ["a 1024-byte key is accepted, 1025 is 414; empty keys and unencoded slashes are 400", async () => {
      assert.equal((await t.send(0, "PUT", enc("k".repeat(1024)), "v")).status, 204);
      const long = await t.send(0, "PUT", enc("k".repeat(1025)), "v");
      assert.equal(long.status, 414);
      await long.body?.cancel();
      for (const path of ["/d/", "/d", "/d/a/b"]) {
        const res = await t.send(0, "PUT", path, "v");
        assert.equal(res.status, 400, path);
        await errorOf(res);
      }
    }],
    [`a value over --max-value-bytes is 413 with the limit; one at the limit is stored`, async () => {
      assert.equal((await t.send(0, "PUT", enc("full"), bytes(CONTRACT_MAX_VALUE_BYTES))).status, 204);
      const res = await t.send(0, "PUT", enc("too big"), bytes(CONTRACT_MAX_VALUE_BYTES + 1));
      assert.equal(res.status, 413);
      assert.equal((await res.json()).maxBytes, CONTRACT_MAX_VALUE_BYTES);
      assert.equal((await t.send(other(0), "GET", enc("too big"))).status, 404, "nothing stored");
    }],
    ["HEAD answers with the stored version and no body", async () => {
      const version = (await t.send(0, "PUT", enc("head"), "12345")).headers.get("x-dht-version");
      const res = await t.send(other(0), "HEAD", enc("head"));
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("x-dht-version"), version);
      assert.equal(res.headers.get("content-length"), "5");
      assert.equal((await res.arrayBuffer()).byteLength, 0);
    }],
    ["other methods on a key are 405 with Allow; an unknown route is a JSON 404", async () => {
      const res = await t.send(0, "PATCH", enc("k"), "v");
      assert.equal(res.status, 405);
      assert.match(res.headers.get("allow") ?? "", /GET/);
      await errorOf(res);
      const unknown = await t.send(0, "GET", "/nowhere");
      assert.equal(unknown.status, 404);
      await errorOf(unknown);
    }],
    ["?consistency= takes one, quorum or all, and nothing else", async () => {
      for (const level of ["one", "quorum", "all"]) {
        assert.equal((await t.send(0, "PUT", `${enc("level")}?consistency=${level}`, level)).status, 204, level);
        assert.equal(await (await t.send(other(0), "GET", `${enc("level")}?consistency=${level}`)).text(), level);
      }
      const bad = await t.send(0, "GET", `${enc("level")}?consistency=most`);
      assert.equal(bad.status, 400);
      assert.match(await errorOf(bad), /consistency/);
    }],
  ];
  for (const [name, run] of cases) {
    try {
      await run();
    } catch (err) {
      if (err instanceof Error) err.message = `${name}: ${err.message}`;
      throw err;
    }
  }
}
