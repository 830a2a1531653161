/**
 * Replication across real processes: a value written through one node is read back
 * byte-for-byte through every other, right after the write returns. Each runner uses its
 * own runtime; Node's runner also checks a mixed Node/Bun/Deno cluster.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { detectRuntime } from "../../adapters/mod.ts";
import { checkHistory } from "../../lib/check/linearizability.ts";
import { recordHistory } from "../../scripts/linearizability.ts";
import { ringsAgree, type RunningNode, type Runtime, startNode } from "../support/processes.ts";

const runtime = detectRuntime();

async function cluster(runtimes: Runtime[]): Promise<RunningNode[]> {
  const first = await startNode(runtimes[0]!, ["--protocol-period-ms", "500", "--ping-timeout-ms", "250"]);
  const rest = await Promise.all(runtimes.slice(1).map((rt) => startNode(rt, [String(first.port), "--protocol-period-ms", "500", "--ping-timeout-ms", "250"])));
  const nodes = [first, ...rest];
  await ringsAgree(nodes);
  return nodes;
}

async function writeEverywhereReadEverywhere(nodes: RunningNode[]): Promise<void> {
  for (const [i, writer] of nodes.entries()) {
    for (let k = 0; k < 5; k++) {
      const key = `from ${writer.runtime} #${i}/${k} ✓`;
      const value = new Uint8Array(1000 + k).map((_, j) => (j * 31 + i + k) % 256);
      const put = await fetch(`${writer.url}/d/${encodeURIComponent(key)}`, { method: "PUT", body: value, headers: { "content-type": "application/x-test" } });
      assert.equal(put.status, 204, await put.text());
      for (const reader of nodes) {
        const got = await fetch(`${reader.url}/d/${encodeURIComponent(key)}`);
        assert.equal(got.status, 200, `${key} through ${reader.runtime}:${reader.port}`);
        assert.equal(got.headers.get("content-type"), "application/x-test");
        assert.deepEqual(new Uint8Array(await got.arrayBuffer()), value, `${key} through ${reader.runtime}:${reader.port}`);
      }
    }
  }
  const located = await (await fetch(`${nodes[0]!.url}/cluster/locate/${encodeURIComponent("any key")}`)).json();
  assert.equal(located.replicas.length, 3);
}

test(`${runtime}: a 3-node cluster: written through any node, read byte-for-byte through every node at once`, async () => {
  const nodes = await cluster([runtime, runtime, runtime]);
  try {
    await writeEverywhereReadEverywhere(nodes);
    // Deleted through one node, gone through all.
    const key = `from ${runtime} #0/0 ✓`;
    assert.equal((await fetch(`${nodes[1]!.url}/d/${encodeURIComponent(key)}`, { method: "DELETE" })).status, 204);
    for (const n of nodes) assert.equal((await fetch(`${n.url}/d/${encodeURIComponent(key)}`)).status, 404);
  } finally {
    await Promise.all(nodes.map((n) => n.stop()));
  }
});

test("a mixed cluster (Node, Bun, Deno) replicates byte-for-byte across runtimes", { skip: runtime !== "node" }, async () => {
  const nodes = await cluster(["node", "bun", "deno"]);
  try {
    await writeEverywhereReadEverywhere(nodes);
  } finally {
    await Promise.all(nodes.map((n) => n.stop()));
  }
});

test(`${runtime}: concurrent clients against 3 real nodes record a linearizable history`, async () => {
  const nodes = await cluster([runtime, runtime, runtime]);
  try {
    const history = await recordHistory({ nodes: nodes.map((n) => `127.0.0.1:${n.port}`), clients: 4, ops: 30, keys: 2 });
    assert.ok(history.filter((op) => op.ret !== undefined).length >= 100, "most operations answered");
    const result = checkHistory(history);
    assert.ok(result.ok, `not linearizable on key ${result.key}`);
  } finally {
    await Promise.all(nodes.map((n) => n.stop()));
  }
});
