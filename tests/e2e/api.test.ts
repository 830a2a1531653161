/** The KV API over real HTTP, on each runtime's real server, and a clean leave on signals. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { connect } from "node:net";
import { runtimes, startNode } from "../support/processes.ts";

/** A GET written by hand, so the Host header can be one no HTTP client would send. */
function rawGet(port: number, path: string, host: string, headers: Record<string, string> = { connection: "close" }): Promise<string> {
  return new Promise((resolve, reject) => {
    const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join("");
    const socket = connect(port, "127.0.0.1", () => socket.write(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\n${lines}\r\n`));
    let reply = "";
    socket.on("data", (chunk) => {
      reply += chunk;
      // Enough seen: a stream opened, or a whole answer of content-length arrived (the server may keep the connection).
      const [head, body] = reply.split("\r\n\r\n");
      const length = /content-length: (\d+)/i.exec(head ?? "");
      if (reply.startsWith("HTTP/1.1 101") || (body !== undefined && length && Buffer.byteLength(body) >= Number(length[1]))) socket.destroy();
    });
    socket.on("close", () => resolve(reply));
    socket.on("error", reject);
  });
}

const upgrade = (key: string, version = "13") => ({ connection: "Upgrade", upgrade: "websocket", "sec-websocket-key": key, "sec-websocket-version": version });

for (const runtime of runtimes) {
  test(`${runtime}: the KV API over HTTP, then SIGTERM exits 0`, async () => {
    const node = await startNode(runtime, ["--max-value-bytes", "65536"]);
    try {
      const url = (key: string) => `${node.url}/d/${encodeURIComponent(key)}`;
      const bytes = new Uint8Array(4096).map((_, i) => (i * 7) % 256);

      let res = await fetch(url("bin/ä ry"), { method: "PUT", body: bytes, headers: { "content-type": "image/x-test" } });
      assert.equal(res.status, 204);
      res = await fetch(url("bin/ä ry"));
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("content-type"), "image/x-test");
      assert.deepEqual(new Uint8Array(await res.arrayBuffer()), bytes);

      // curl -d "value": form-encoded POST, stored raw.
      res = await fetch(url("form"), { method: "POST", body: "value", headers: { "content-type": "application/x-www-form-urlencoded" } });
      assert.equal(res.status, 204);
      assert.equal(await (await fetch(url("form"))).text(), "value");

      res = await fetch(url("big"), { method: "PUT", body: new Uint8Array(65537) });
      assert.equal(res.status, 413);
      assert.equal((await res.json()).maxBytes, 65536);

      res = await fetch(`${node.url}/d/${"k".repeat(1025)}`, { method: "PUT", body: "v" });
      assert.equal(res.status, 414);
      await res.body?.cancel();

      res = await fetch(url("form"), { method: "DELETE" });
      assert.equal(res.status, 204);
      res = await fetch(url("form"));
      assert.equal(res.status, 404);
      assert.match((await res.json()).error, /not found/);

      const health = await (await fetch(`${node.url}/health`)).json();
      assert.equal(health.status, "ok");
      assert.equal(health.id, `127.0.0.1:${node.port}`);
      assert.equal(health.runtime, runtime);
      assert.equal(health.epoch, 1, "a node alone founds its ring at epoch 1");
      assert.match(health.checksum, /^[0-9a-f]{8}$/);

      // The peer-stream path without an upgrade: the same answers on every runtime (Bun's
      // own route once answered 500 here).
      res = await fetch(`${node.url}/_kv/stream`);
      assert.equal(res.status, 426);
      assert.match((await res.json()).error, /WebSocket upgrade/);
      res = await fetch(`${node.url}/_kv/stream`, { method: "POST", body: "x" });
      assert.equal(res.status, 404);
      assert.match((await res.json()).error, /no route/);

      // A Host header that makes no URL: a 400, never a 500 (Bun and Deno once answered 500;
      // Node's own parser answers 400 before our code sees the request).
      for (const host of ["[", "a b", "@"]) {
        const head = (await rawGet(node.port, "/d/x", host)).split("\r\n")[0];
        assert.match(head!, /^HTTP\/1\.1 400/, `Host ${JSON.stringify(host)}: ${head}`);
      }

      // WebSocket upgrades that cannot open a peer stream: the same JSON answers everywhere
      // (Node's ws once answered an HTML page and an empty 404; Deno completed bad handshakes).
      const host = `127.0.0.1:${node.port}`;
      const good = "dGhlIHNhbXBsZSBub25jZQ==";
      const refused: Array<[string, Record<string, string>, number, RegExp]> = [
        ["/_kv/stream", upgrade("not-a-key"), 400, /Sec-WebSocket-Key/],
        ["/_kv/stream", upgrade(good, "8"), 400, /Sec-WebSocket-Version 13/],
        ["/elsewhere", upgrade(good), 404, /"error"/],
      ];
      for (const [path, headers, status, error] of refused) {
        const reply = await rawGet(node.port, path, host, headers);
        assert.match(reply.split("\r\n")[0]!, new RegExp(`^HTTP/1\\.1 ${status}`), `${path} ${JSON.stringify(headers)}: ${reply}`);
        assert.match(reply, /content-type: application\/json/i);
        assert.match(reply.split("\r\n\r\n")[1] ?? "", error);
      }
      assert.match(await rawGet(node.port, "/_kv/stream", host, upgrade(good)), /^HTTP\/1\.1 101/, "a good handshake still opens a stream");

      const metrics = await (await fetch(`${node.url}/metrics`)).text();
      assert.match(metrics, /dht_http_requests_total\{method="PUT",route="\/d\/:key",status="204"\} 1/);
    } finally {
      const exit = await node.stop("SIGTERM");
      assert.equal(exit.code, 0, node.output());
      assert.match(exit.stdout, /"event":"stopped"/);
    }
  });

  test(`${runtime}: SIGINT also leaves cleanly with exit 0`, async () => {
    const node = await startNode(runtime);
    const exit = await node.stop("SIGINT");
    assert.equal(exit.code, 0, node.output());
    assert.match(exit.stdout, /"event":"leaving","node":"[^"]+","signal":"SIGINT"/);
  });
}
