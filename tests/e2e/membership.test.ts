/**
 * Membership on real processes. Each test runner starts nodes of its own runtime (node
 * --test → Node, bun test → Bun, deno test → Deno), so `npm test` covers all three.
 *
 * Timings are halved from the defaults to keep the suite short: period 500 ms, ping
 * timeout 250 ms, so with 8 members the suspicion timeout runs from
 * 4·log10(9)·0.5 s ≈ 1.9 s (confirmed) to 6 × that ≈ 11.5 s (unconfirmed).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { detectRuntime } from "../../adapters/mod.ts";
import { type RunningNode, type Runtime, startNode } from "../support/processes.ts";

const runtime = detectRuntime();
const timings = ["--protocol-period-ms", "500", "--ping-timeout-ms", "250"];

interface MemberJson {
  id: string;
  state: string;
  incarnation: number;
}

async function members(node: RunningNode): Promise<MemberJson[]> {
  const res = await fetch(`${node.url}/cluster/members`);
  return (await res.json()).members;
}

async function startCluster(runtimes: Runtime[]): Promise<RunningNode[]> {
  const first = await startNode(runtimes[0]!, timings);
  const rest = await Promise.all(runtimes.slice(1).map((rt) => startNode(rt, [String(first.port), ...timings])));
  return [first, ...rest];
}

async function eventually(what: string, limitMs: number, check: () => Promise<boolean>): Promise<number> {
  const start = Date.now();
  for (;;) {
    if (await check()) return Date.now() - start;
    if (Date.now() - start > limitMs) assert.fail(`${what}: not within ${limitMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const idOf = (n: RunningNode) => `127.0.0.1:${n.port}`;

async function allAlive(nodes: RunningNode[]): Promise<boolean> {
  for (const n of nodes) {
    const ms = await members(n);
    if (ms.length !== nodes.length || ms.some((m) => m.state !== "alive")) return false;
  }
  return true;
}

test(`${runtime}: 8 nodes form a cluster; a SIGKILLed node is marked dead by every survivor`, async () => {
  const nodes = await startCluster(Array(8).fill(runtime));
  try {
    await eventually("8 nodes see 8 alive", 30_000, () => allAlive(nodes));
    const victim = nodes[5]!;
    await victim.stop("SIGKILL");
    const survivors = nodes.filter((n) => n !== victim);
    const took = await eventually("every survivor marks the killed node dead", 30_000, async () => {
      for (const n of survivors) {
        const v = (await members(n)).find((m) => m.id === idOf(victim));
        if (v?.state !== "dead") return false;
      }
      return true;
    });
    assert.ok(took > 500, `dead after ${took} ms: faster than one probe could be`);
    for (const n of survivors) {
      const wrong = (await members(n)).filter((m) => m.id !== idOf(victim) && m.state !== "alive");
      assert.deepEqual(wrong, [], `${idOf(n)} has false positives`);
    }
    await eventually("every survivor's ring agrees, without the dead node", 10_000, async () => {
      const rings = await Promise.all(survivors.map(async (n) => (await fetch(`${n.url}/cluster/ring`)).json()));
      return new Set(rings.map((r) => r.checksum)).size === 1 && rings.every((r) => r.members.length === 7 && !r.members.includes(idOf(victim)));
    });
  } finally {
    await Promise.all(nodes.map((n) => n.stop()));
  }
});

test(`${runtime}: a node paused with SIGSTOP until it is suspected refutes, and is never declared dead`, async () => {
  const nodes = await startCluster(Array(8).fill(runtime));
  try {
    await eventually("8 nodes see 8 alive", 30_000, () => allAlive(nodes));
    const paused = nodes[3]!;
    const others = nodes.filter((n) => n !== paused);
    process.kill(paused.child.pid!, "SIGSTOP");
    // Paused until another member suspects it (so the test proves something), then resumed
    // at once: well inside the shortest suspicion timeout (≈ 1.9 s with confirmations).
    let suspected = false;
    const pausedAt = Date.now();
    while (!suspected && Date.now() - pausedAt < 8_000) {
      for (const n of others) if ((await members(n)).find((m) => m.id === idOf(paused))?.state === "suspect") suspected = true;
      if (!suspected) await new Promise((r) => setTimeout(r, 50));
    }
    process.kill(paused.child.pid!, "SIGCONT");
    assert.ok(suspected, `nobody suspected the paused node within ${Date.now() - pausedAt} ms: the test would prove nothing`);
    // Long enough for any suspicion started during the pause to time out, were it not refuted.
    await new Promise((r) => setTimeout(r, 6000));
    await eventually("all alive again", 15_000, () => allAlive(nodes));
    const deaths = nodes.flatMap((n) => n.output().split("\n").filter((l) => l.includes('"event":"member dead"')));
    assert.deepEqual(deaths, []);
    assert.match(paused.output(), /"event":"refuted"/, "the paused node refuted the suspicion of itself");
  } finally {
    await Promise.all(nodes.map((n) => n.stop()));
  }
});

test("a mixed cluster (Node, Bun, Deno) forms one membership and sees a graceful leave", { skip: runtime !== "node" }, async () => {
  const nodes = await startCluster(["node", "bun", "deno", "bun"]);
  try {
    await eventually("4 mixed nodes see 4 alive", 30_000, () => allAlive(nodes));
    const leaver = nodes[2]!;
    const exit = await leaver.stop("SIGTERM");
    assert.equal(exit.code, 0);
    const rest = nodes.filter((n) => n !== leaver);
    await eventually("the others mark it left", 15_000, async () => {
      for (const n of rest) if ((await members(n)).find((m) => m.id === idOf(leaver))?.state !== "left") return false;
      return true;
    });
  } finally {
    await Promise.all(nodes.map((n) => n.stop()));
  }
});
