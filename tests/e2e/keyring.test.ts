/**
 * The cluster keyring on real processes, on every runtime: nodes sealing under one key
 * form a cluster and serve; a node with another key, or none, is never admitted; the keys
 * rotate with SIGHUP re-reads of the key file (add, use, remove) while the cluster
 * serves, after which the node holding only the new key is admitted.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { detectRuntime } from "../../adapters/mod.ts";
import { ringsAgree, type RunningNode, startNode } from "../support/processes.ts";

const runtime = detectRuntime();
const FAST = ["--protocol-period-ms", "300", "--ping-timeout-ms", "150", "--removal-delay-ms", "60000"];
const k1 = btoa(String.fromCharCode(...new Uint8Array(32).fill(1)));
const k2 = btoa(String.fromCharCode(...new Uint8Array(16).fill(2)));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const members = async (n: RunningNode) => ((await (await fetch(`${n.url}/cluster/members`)).json()).members as Array<{ id: string; state: string }>).filter((m) => m.state === "alive").map((m) => m.id).sort();

test(`${runtime}: one key admits, another or none does not; keys rotate by SIGHUP while the cluster serves`, async () => {
  const dir = mkdtempSync(join(tmpdir(), "dht-keys-"));
  const files = [join(dir, "a"), join(dir, "b")];
  for (const f of files) writeFileSync(f, k1);
  const a = await startNode(runtime, [...FAST, "--cluster-key-file", files[0]!]);
  const b = await startNode(runtime, [...FAST, "--cluster-key-file", files[1]!, String(a.port)]);
  const other = await startNode(runtime, [...FAST, String(a.port)], { DHT_CLUSTER_KEY: k2 });
  const keyless = await startNode(runtime, [...FAST, String(a.port)]);
  const nodes = [a, b, other, keyless];
  try {
    const id = (n: RunningNode) => `127.0.0.1:${n.port}`;
    for (let i = 0; i < 50 && (await members(a)).length < 2; i++) await sleep(100);
    await sleep(1_500);
    assert.deepEqual(await members(a), [id(a), id(b)].sort(), "only the node with the key joined");
    assert.match(a.output(), /refused a message that does not open under the cluster key/);
    assert.match(keyless.output(), /no cluster key: node-to-node messages are neither authenticated nor encrypted/);
    assert.equal((await fetch(`${b.url}/d/k`, { method: "PUT", body: "v1" })).status, 204);
    assert.equal(await (await fetch(`${a.url}/d/k`)).text(), "v1");

    for (const step of [`${k1},${k2}`, `${k2},${k1}`, k2]) {
      for (const f of files) writeFileSync(f, step);
      for (const n of [a, b]) process.kill(n.child.pid!, "SIGHUP");
      await sleep(400);
      assert.equal((await fetch(`${a.url}/d/k`, { method: "PUT", body: step })).status, 204, `a write after the step to ${step.length} bytes of keys`);
      assert.equal(await (await fetch(`${b.url}/d/k`)).text(), step);
    }
    for (let i = 0; i < 50 && (await members(a)).length < 3; i++) await sleep(100);
    assert.deepEqual(await members(a), [id(a), id(b), id(other)].sort(), "the node holding the new key is admitted now");
    assert.doesNotMatch(a.output() + b.output(), /SIGHUP: the cluster keys in force are kept/);
  } finally {
    await Promise.all(nodes.map((n) => n.stop("SIGKILL")));
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a mixed cluster (Node, Bun, Deno) under one key: each opens what the others seal", { skip: runtime !== "node" }, async () => {
  const env = { DHT_CLUSTER_KEY: k1 };
  const first = await startNode("node", FAST, env);
  const nodes = [first, ...await Promise.all((["bun", "deno"] as const).map((rt) => startNode(rt, [...FAST, String(first.port)], env)))];
  try {
    const ids = nodes.map((n) => `127.0.0.1:${n.port}`).sort();
    for (const n of nodes) {
      for (let i = 0; i < 100 && (await members(n)).length < 3; i++) await sleep(100);
      assert.deepEqual(await members(n), ids, `${n.runtime} sees all three`);
    }
    for (const [i, writer] of nodes.entries()) {
      assert.equal((await fetch(`${writer.url}/d/mixed-${i}`, { method: "PUT", body: writer.runtime })).status, 204);
      for (const reader of nodes) assert.equal(await (await fetch(`${reader.url}/d/mixed-${i}`)).text(), writer.runtime, `${writer.runtime} → ${reader.runtime}`);
    }
  } finally {
    await Promise.all(nodes.map((n) => n.stop("SIGKILL")));
  }
});

test("a rolling rotation across 5 mixed nodes under client writes: nothing acknowledged lost, nobody declared dead", { skip: runtime !== "node" }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "dht-keys-"));
  const runtimes = ["node", "bun", "deno", "node", "bun"] as const;
  const files = runtimes.map((_, i) => join(dir, `n${i}`));
  for (const f of files) writeFileSync(f, k1);
  const args = (i: number) => [...FAST, "--cluster-key-file", files[i]!];
  const first = await startNode(runtimes[0], args(0));
  const nodes = [first, ...await Promise.all(runtimes.slice(1).map((rt, i) => startNode(rt, [...args(i + 1), String(first.port)])))];
  let writing = true;
  try {
    await ringsAgree(nodes, 60_000);
    // Two clients, each writing its own keys in turn through every node; what was acknowledged is kept.
    const acknowledged = new Map<string, number>();
    const client = async (c: number) => {
      for (let n = 0; writing; n++) {
        const key = `c${c}-${n % 20}`;
        const via = nodes[(n + c) % nodes.length]!;
        const res = await fetch(`${via.url}/d/${key}`, { method: "PUT", body: String(n), signal: AbortSignal.timeout(5_000) }).catch(() => undefined);
        if (res?.status === 204) acknowledged.set(key, n);
        await res?.arrayBuffer();
      }
    };
    const clients = [client(0), client(1)];
    for (const step of [`${k1},${k2}`, `${k2},${k1}`, k2]) {
      for (const [i, n] of nodes.entries()) {
        writeFileSync(files[i]!, step);
        process.kill(n.child.pid!, "SIGHUP");
        await sleep(300);
      }
    }
    await sleep(1_000);
    writing = false;
    await Promise.all(clients);
    assert.ok(acknowledged.size >= 20, `writes went on through the rotation: ${acknowledged.size} keys acknowledged`);
    for (const [key, n] of acknowledged) {
      const got = Number(await (await fetch(`${nodes[2]!.url}/d/${key}`)).text());
      assert.ok(got >= n, `${key}: read ${got}, but ${n} was acknowledged`);
    }
    const ids = nodes.map((n) => `127.0.0.1:${n.port}`).sort();
    for (const n of nodes) assert.deepEqual(await members(n), ids, `${n.runtime} sees all five alive`);
    for (const n of nodes) assert.doesNotMatch(n.output(), /"member dead"|the cluster keys in force are kept/, `${n.runtime} declared nobody dead`);
  } finally {
    writing = false;
    await Promise.all(nodes.map((n) => n.stop("SIGKILL")));
    rmSync(dir, { recursive: true, force: true });
  }
});
