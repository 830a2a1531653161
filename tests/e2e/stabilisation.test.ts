/**
 * Stabilisation across real processes, on a mixed cluster (two nodes each of Node, Bun and
 * Deno): 2,000 keys survive a crash, a second crash and a graceful leave, each followed by
 * re-replication. Run by Node's runner only: one cluster covers all three runtimes.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { detectRuntime } from "../../adapters/mod.ts";
import { type RunningNode, type Runtime, startNode } from "../support/processes.ts";

const runtime = detectRuntime();
const KEYS = 2_000;
const key = (i: number) => `stable/${i} ✓`;
const value = (i: number) => `value of ${i} `.repeat(8);
const FLAGS = ["--protocol-period-ms", "500", "--ping-timeout-ms", "250", "--sync-interval-ms", "2000"];

async function cluster(runtimes: Runtime[]): Promise<RunningNode[]> {
  const first = await startNode(runtimes[0]!, FLAGS);
  const rest = await Promise.all(runtimes.slice(1).map((rt) => startNode(rt, [String(first.port), ...FLAGS])));
  const nodes = [first, ...rest];
  await waitFor("the rings to agree", 30_000, async () => {
    const rings = await Promise.all(nodes.map(async (n) => (await fetch(`${n.url}/cluster/ring`)).json()));
    return rings.every((r) => r.members.length === nodes.length) && new Set(rings.map((r) => r.checksum)).size === 1;
  });
  return nodes;
}

async function waitFor(what: string, limitMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what} after ${limitMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Runs `work(i)` for 0..count-1, `width` at a time. */
async function pool(count: number, width: number, work: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < count) await work(next++);
  }));
}

async function unreadable(nodes: RunningNode[]): Promise<string[]> {
  const bad: string[] = [];
  await pool(KEYS, 32, async (i) => {
    const via = nodes[i % nodes.length]!;
    const res = await fetch(`${via.url}/d/${encodeURIComponent(key(i))}`);
    const text = await res.text();
    if (res.status !== 200 || text !== value(i)) bad.push(`${key(i)} via ${via.runtime}:${via.port}: ${res.status}`);
  });
  return bad;
}

/** Every live node has the same ring, without the gone, and a quiet stabilisation round on it. */
async function stabilised(nodes: RunningNode[], limitMs = 60_000): Promise<void> {
  await waitFor("stabilisation", limitMs, async () => {
    const views = await Promise.all(nodes.map(async (n) => (await fetch(`${n.url}/cluster/sync`)).json()));
    const rings = await Promise.all(nodes.map(async (n) => (await fetch(`${n.url}/cluster/ring`)).json()));
    return rings.every((r) => r.members.length === nodes.length) && new Set(views.map((v) => v.ringChecksum)).size === 1 && views.every((v) => v.settled);
  });
}

test("a mixed cluster of 6 keeps 2,000 keys through a crash, a second crash and a graceful leave", { skip: runtime !== "node", timeout: 240_000 }, async () => {
  let nodes = await cluster(["node", "bun", "deno", "node", "bun", "deno"]);
  try {
    await pool(KEYS, 32, async (i) => {
      const res = await fetch(`${nodes[i % nodes.length]!.url}/d/${encodeURIComponent(key(i))}`, { method: "PUT", body: value(i) });
      assert.equal(res.status, 204, await res.text());
    });
    await stabilised(nodes);
    const copies = async () => (await Promise.all(nodes.map(async (n) => (await (await fetch(`${n.url}/cluster/sync`)).json()).liveKeys))).reduce((a, b) => a + b, 0);
    assert.equal(await copies(), 3 * KEYS, "every key on exactly N nodes");

    for (const [victim, signal] of [[nodes[1]!, "SIGKILL"], [nodes[2]!, "SIGKILL"], [nodes[3]!, "SIGTERM"]] as const) {
      const exited = await victim.stop(signal, 60_000);
      if (signal === "SIGTERM") {
        assert.equal(exited.code, 0, victim.output());
        assert.match(victim.output(), /"event":"data handed off"/);
      }
      nodes = nodes.filter((n) => n !== victim);
      assert.deepEqual(await unreadable(nodes), [], `every key readable at once after ${signal} of ${victim.runtime}:${victim.port}`);
      await stabilised(nodes);
    }
    assert.equal(await copies(), 3 * KEYS, "back to N copies of every key on the 3 survivors");
  } finally {
    await Promise.all(nodes.map((n) => n.stop("SIGKILL")));
  }
});
