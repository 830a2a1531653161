/**
 * Stabilisation across real processes, on mixed clusters (Node, Bun and Deno side by side):
 * 2,000 keys survive a crash, a second crash and a graceful leave; two members join four and
 * then the old ones crash one by one; a member cut off (SIGSTOP) past its suspicion timeout
 * comes back and is brought level. Run by Node's runner only: each cluster covers all three
 * runtimes.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { detectRuntime } from "../../adapters/mod.ts";
import { ringsAgree, type RunningNode, type Runtime, startNode } from "../support/processes.ts";

const runtime = detectRuntime();
const KEYS = 2_000;
const key = (i: number) => `stable/${i} ✓`;
const value = (i: number) => `value of ${i} `.repeat(8);
const FLAGS = ["--protocol-period-ms", "500", "--ping-timeout-ms", "250", "--sync-interval-ms", "2000"];

/** Every node started, so that each test's cleanup kills them all, whatever failed. */
const started: RunningNode[] = [];

async function start(runtime: Runtime, args: string[]): Promise<RunningNode> {
  const node = await startNode(runtime, args);
  started.push(node);
  return node;
}

async function killAll(): Promise<void> {
  await Promise.all(started.splice(0).map((n) => n.stop("SIGKILL")));
}

/** Starts nodes on `runtimes`, joining `existing` if given; resolves with all of them once every ring agrees. */
async function cluster(runtimes: Runtime[], existing: RunningNode[] = []): Promise<RunningNode[]> {
  const first = existing[0] ?? (await start(runtimes[0]!, FLAGS));
  const rest = await Promise.all(runtimes.slice(existing.length > 0 ? 0 : 1).map((rt) => start(rt, [String(first.port), ...FLAGS])));
  const nodes = [...(existing.length > 0 ? existing : [first]), ...rest];
  await ringsAgree(nodes);
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

async function writeKeys(nodes: RunningNode[], version = ""): Promise<void> {
  await pool(KEYS, 32, async (i) => {
    const res = await fetch(`${nodes[i % nodes.length]!.url}/d/${encodeURIComponent(key(i))}`, { method: "PUT", body: value(i) + version });
    assert.equal(res.status, 204, await res.text());
  });
}

async function unreadable(nodes: RunningNode[], version = "", query = ""): Promise<string[]> {
  const bad: string[] = [];
  await pool(KEYS, 32, async (i) => {
    const via = nodes[i % nodes.length]!;
    const res = await fetch(`${via.url}/d/${encodeURIComponent(key(i))}${query}`);
    const text = await res.text();
    if (res.status !== 200 || text !== value(i) + version) bad.push(`${key(i)} via ${via.runtime}:${via.port}: ${res.status}`);
  });
  return bad;
}

/** Copies of keys held across the cluster, asked of one node (`/cluster/sync?all`). */
async function copies(nodes: RunningNode[]): Promise<number> {
  const all = await (await fetch(`${nodes[0]!.url}/cluster/sync?all`)).json();
  assert.equal(all.nodes.length, nodes.length, JSON.stringify(all.nodes.filter((n: { error?: string }) => n.error)));
  return all.liveKeys;
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
    await writeKeys(nodes);
    await stabilised(nodes);
    assert.equal(await copies(nodes), 3 * KEYS, "every key on exactly N nodes");

    for (const [victim, signal] of [[nodes[1]!, "SIGKILL"], [nodes[2]!, "SIGKILL"], [nodes[3]!, "SIGTERM"]] as const) {
      const exiting = victim.stop(signal, 60_000);
      const others = nodes.filter((n) => n !== victim);
      // Read everything through the others while the victim dies or hands off.
      const during = await unreadable(others);
      const exited = await exiting;
      if (signal === "SIGTERM") {
        assert.equal(exited.code, 0, victim.output());
        assert.match(victim.output(), /"event":"data handed off"/);
      }
      nodes = others;
      assert.deepEqual(during, [], `every key readable during and after ${signal} of ${victim.runtime}:${victim.port}`);
      assert.deepEqual(await unreadable(nodes), []);
      await stabilised(nodes);
    }
    assert.equal(await copies(nodes), 3 * KEYS, "back to N copies of every key on the 3 survivors");
  } finally {
    await killAll();
  }
});

test("two members join a mixed cluster of 4 holding 2,000 keys; then the old members crash one by one", { skip: runtime !== "node", timeout: 240_000 }, async () => {
  let nodes = await cluster(["node", "bun", "deno", "node"]);
  try {
    await writeKeys(nodes);
    await stabilised(nodes);
    const old = [...nodes];
    nodes = await cluster(["bun", "deno"], old);
    await stabilised(nodes);
    assert.equal(await copies(nodes), 3 * KEYS, "the old members dropped what they handed to the new ones");
    const newcomers = nodes.slice(4);
    assert.deepEqual(await unreadable(newcomers, "", "?consistency=one"), [], "every key readable through the new members");
    for (const victim of old) {
      await victim.stop("SIGKILL");
      nodes = nodes.filter((n) => n !== victim);
      assert.deepEqual(await unreadable(nodes), [], `every key readable after ${victim.runtime}:${victim.port} crashed`);
      await stabilised(nodes);
    }
    assert.equal(await copies(nodes), 2 * KEYS, "two members left: every key on both");
  } finally {
    await killAll();
  }
});

test("a member cut off (SIGSTOP) until declared dead comes back and is brought level", { skip: runtime !== "node", timeout: 240_000 }, async () => {
  const nodes = await cluster(["node", "bun", "deno", "bun", "deno"]);
  try {
    await writeKeys(nodes);
    await stabilised(nodes);
    const [cut, ...rest] = [nodes[2]!, ...nodes.filter((_, i) => i !== 2)];
    const cutId = `127.0.0.1:${cut.port}`;
    process.kill(cut.child.pid!, "SIGSTOP");
    await waitFor("the others to declare it dead", 60_000, async () => {
      const views = await Promise.all(rest.map(async (n) => (await (await fetch(`${n.url}/cluster/members`)).json()).members));
      return views.every((members) => members.some((m: { id: string; state: string }) => m.id === cutId && m.state === "dead"));
    });
    await writeKeys(rest, " v2");
    process.kill(cut.child.pid!, "SIGCONT");
    await stabilised(nodes);
    // Reading with consistency=one through the healed member answers from its own store for
    // the keys it owns: they must be the new versions.
    assert.deepEqual(await unreadable([cut], " v2", "?consistency=one"), []);
    assert.equal(await copies(nodes), 3 * KEYS);
  } finally {
    process.kill(nodes[2]!.child.pid!, "SIGCONT");
    await killAll();
  }
});
