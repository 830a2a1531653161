/**
 * Leases on real processes: a lock taken with `If-None-Match: *` and a ttl, renewed with
 * `If-Match`, is taken by another client only after it lapsed; and a value's expiry is
 * seen as 404 through every node after its deadline, including an owner that was paused
 * (SIGSTOP) while the value was written.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { detectRuntime } from "../../adapters/mod.ts";
import { startCluster } from "../support/processes.ts";

const runtime = detectRuntime();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test(`${runtime}: a lock with a ttl is renewed by its holder and taken by another only once it lapsed; expiry reaches an owner that missed the write`, async () => {
  const nodes = await startCluster([runtime, runtime, runtime], ["--protocol-period-ms", "500", "--ping-timeout-ms", "250"]);
  const [a, b, c] = nodes as [typeof nodes[0], typeof nodes[0], typeof nodes[0]];
  const lock = (via: string, holder: string, headers: Record<string, string>) => fetch(`${via}/d/lock?ttl=3`, { method: "PUT", body: holder, headers });
  try {
    const taken = await lock(a.url, "alice", { "if-none-match": "*" });
    assert.equal(taken.status, 204);
    let version = taken.headers.get("x-dht-version")!;
    // Renewed well within the ttl less the skew allowance (--expiry-skew-ms, 1 s).
    for (let i = 0; i < 3; i++) {
      await sleep(700);
      assert.equal((await lock(b.url, "bob", { "if-none-match": "*" })).status, 412, "bob cannot take a held lock");
      const renewed = await lock(c.url, "alice", { "if-match": `"${version}"` });
      assert.equal(renewed.status, 204, "alice renews");
      version = renewed.headers.get("x-dht-version")!;
    }
    // Alice stops renewing: within a second of the lapse bob gets it.
    const lapse = Number((await fetch(`${a.url}/d/lock`, { method: "HEAD" })).headers.get("x-dht-expires"));
    let bob = await lock(b.url, "bob", { "if-none-match": "*" });
    assert.equal(bob.status, 412);
    while (bob.status === 412 && Date.now() < lapse + 1_000) bob = await lock(b.url, "bob", { "if-none-match": "*" });
    assert.equal(bob.status, 204);
    assert.ok(Date.now() >= lapse - 1_000 - 50, "not before the lapse, less the skew allowance");
    assert.equal((await lock(a.url, "alice", { "if-match": `"${version}"` })).status, 412, "alice's renewal fails once bob holds it");

    // An owner paused while a value with a ttl is written, then resumed: 404 through every node after the deadline.
    await fetch(`${a.url}/d/session`, { method: "PUT", body: "old" });
    process.kill(c.child.pid!, "SIGSTOP");
    let put: Response;
    try {
      put = await fetch(`${a.url}/d/session?ttl=2`, { method: "PUT", body: "new" });
    } finally {
      process.kill(c.child.pid!, "SIGCONT");
    }
    assert.equal(put.status, 204, await put.text());
    const expires = Number(put.headers.get("x-dht-expires"));
    await sleep(Math.max(0, expires - Date.now()) + 50);
    for (const n of nodes) assert.equal((await fetch(`${n.url}/d/session`)).status, 404, `through ${n.url}`);
  } finally {
    await Promise.all(nodes.map((n) => n.stop()));
  }
});
