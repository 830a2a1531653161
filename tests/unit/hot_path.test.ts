import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { plainKeySegment, withHotPath } from "../../lib/http/hot_path.ts";

test("the hot path takes a key segment only where the router would have parsed the same one", () => {
  const chars = fc.constantFrom("a", "Z", "0", ".", "-", "_", "~", "%", "2", "e", "E", "f", "/", "?", "#", "\\", " ", "\"", "<", "{", "|", "^", "`", "é", "@", ":", ";", "=", "+", "&", "'", "(", "[", "]");
  const text = (max: number) => fc.array(chars, { maxLength: max }).map((cs) => cs.join(""));
  const host = fc.oneof(fc.constant("127.0.0.1:8000"), fc.constant("[::1]:8000"), fc.constant("node-a.local"), text(6));
  fc.assert(
    fc.property(host, text(10), (h, segment) => {
      const url = `http://${h}/d/${segment}`;
      const taken = plainKeySegment(url);
      if (taken === undefined) return;
      const parsed = new URL(url);
      assert.equal(parsed.pathname, `/d/${taken}`, url);
      assert.equal(parsed.search + parsed.hash, "", url);
      assert.equal(taken, segment);
    }),
    { numRuns: 5_000 },
  );
});

test("plain reads take the hot path; dot segments, queries, odd hosts and other routes do not", () => {
  assert.equal(plainKeySegment("http://127.0.0.1:8000/d/bench"), "bench");
  assert.equal(plainKeySegment("http://127.0.0.1:8000/d/caf%C3%A9"), "caf%C3%A9");
  assert.equal(plainKeySegment("https://[::1]:8443/d/a.b"), "a.b");
  for (const url of [
    "http://h/d/..", "http://h/d/%2e", "http://h/d/%2E%2e", "http://h/d/.x", "http://h/d/a?consistency=one",
    "http://h/d/a/b", "http://h/d/", "http://h/d", "http://h/dx/a", "http://h/_kv/batch", "http://a b/d/x",
    "http://[/d/x", "http://@/d/x", "http://h/d/a\\b", "http://h/d/a b", "http://h/d/a#frag",
    // Hosts of name characters that end in a number, which the URL parser refuses as IPv4.
    "http://.2/d/a", "http://1.2.3.4.5/d/a", "http://a.09/d/a",
  ]) assert.equal(plainKeySegment(url), undefined, url);
});

test("plain GETs go to the read handler and plain PUTs to the write handler, with the router's params; everything else goes to the router", async () => {
  const seen: string[] = [];
  const answer = (who: string) => (request: Request) => {
    const routed = request as Request & { params?: { key: string }; query?: Record<string, unknown>; route?: string };
    seen.push(`${who} ${routed.params?.key ?? "-"} ${JSON.stringify(routed.query ?? null)} ${routed.route ?? "-"}`);
    return new Response(null, { status: 204 });
  };
  const fetch = withHotPath(answer("router"), { read: answer("read"), write: answer("write") });
  const cases: Array<[string, string, string]> = [
    ["GET", "http://h:1/d/k", "read k {} /d/:key"],
    ["PUT", "http://h:1/d/k", "write k {} /d/:key"],
    ["PUT", "http://h:1/d/k?ttl=5s", "router - null -"],
    ["PUT", "http://h:1/d/..", "router - null -"],
    ["POST", "http://h:1/d/k", "router - null -"],
    ["HEAD", "http://h:1/d/k", "router - null -"],
    ["DELETE", "http://h:1/d/k", "router - null -"],
    ["PUT", "http://h:1/cluster/ring", "router - null -"],
  ];
  for (const [method, url, expected] of cases) {
    seen.length = 0;
    await fetch(new Request(url, { method, body: method === "PUT" || method === "POST" ? "v" : undefined }));
    assert.deepEqual(seen, [expected], `${method} ${url}`);
  }
});
