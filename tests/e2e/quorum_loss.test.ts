/**
 * The original demo, on real processes of all three runtimes: 8 nodes, keys written, two
 * SIGKILLed at the same moment. The keys whose range kept a quorum are served throughout and
 * re-replicated; the others answer 503 saying their quorum is lost; a new node still joins;
 * `mod.ts recover --all --yes` gives the lost ranges to their survivors and every key reads
 * back; `mod.ts status` then exits 0.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { detectRuntime } from "../../adapters/mod.ts";
import { runCli, type Runtime, runtimes, startCluster, startNode } from "../support/processes.ts";

const KEYS = 200;
const FAST = ["--protocol-period-ms", "300", "--ping-timeout-ms", "150", "--removal-delay-ms", "1000", "--sync-interval-ms", "2000"];

async function json(url: string): Promise<any> {
  return (await fetch(url)).json();
}

async function until(what: string, limitMs: number, done: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${limitMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

// The cluster mixes the three runtimes itself: one test runner is enough.
test("8 nodes on three runtimes, two SIGKILLed at once: only the ranges that lost their quorum stop; a join completes; recover brings every key back", { skip: detectRuntime() !== "node" }, async () => {
  const nodes = await startCluster(Array.from({ length: 8 }, (_, i): Runtime => runtimes[i % runtimes.length]!), FAST);
  try {
    for (let i = 0; i < KEYS; i++) {
      const res = await fetch(`${nodes[i % 8]!.url}/d/k${i}`, { method: "PUT", body: `v${i}` });
      assert.equal(res.status, 204, `PUT k${i}`);
    }

    const killed = [nodes[3]!, nodes[6]!];
    const dead = killed.map((n) => `127.0.0.1:${n.port}`);
    await Promise.all(killed.map((n) => n.stop("SIGKILL")));
    const survivors = nodes.filter((n) => !killed.includes(n));
    await until("the dead off every survivor's ring", 60_000, async () => {
      const rings = await Promise.all(survivors.map((n) => json(`${n.url}/cluster/ring`)));
      return rings.every((r) => r.phase === "stable" && !r.members.some((m: string) => dead.includes(m)));
    });

    // Keys whose range kept a quorum are served; the others say why they are not.
    let lost = 0;
    for (let i = 0; i < KEYS; i++) {
      const res = await fetch(`${survivors[i % survivors.length]!.url}/d/k${i}`);
      if (res.status === 200) {
        assert.equal(await res.text(), `v${i}`);
        continue;
      }
      assert.equal(res.status, 503, `k${i}`);
      const body = await res.json();
      assert.equal(body.quorumLost, true, JSON.stringify(body));
      assert.ok(body.dead.every((id: string) => dead.includes(id)) && body.dead.length >= 2, JSON.stringify(body));
      assert.match(body.recover, /mod\.ts recover 127\.0\.0\.1:\d+ --range [0-9a-f]{16}-[0-9a-f]{16}/);
      lost++;
    }
    assert.ok(lost > 0 && lost < KEYS / 3, `${lost} of ${KEYS} keys lost their quorum`);

    // A new node joins while those ranges wait.
    const joiner = await startNode("bun", [String(nodes[0]!.port), ...FAST]);
    nodes.push(joiner);
    const live = [...survivors, joiner];
    await until("the joiner on every ring", 60_000, async () => {
      const rings = await Promise.all(live.map((n) => json(`${n.url}/cluster/ring`)));
      return rings.every((r) => r.phase === "stable" && r.members.includes(`127.0.0.1:${joiner.port}`));
    });
    const status = await runCli("node", ["status", String(nodes[0]!.port)]);
    assert.equal(status.code, 1, status.stdout);
    assert.match(status.stdout, /ranges lost a quorum of their owners.*mod\.ts recover/);

    // Without --yes and no terminal to ask on, nothing happens.
    const unconfirmed = await runCli("node", ["recover", String(nodes[0]!.port), "--all"]);
    assert.equal(unconfirmed.code, 1, unconfirmed.stdout + unconfirmed.stderr);
    assert.match(unconfirmed.stdout, /lost a quorum of their owners[\s\S]*recovering gives it to/);
    assert.match(unconfirmed.stderr, /not confirmed: run again with --yes/);

    const recovered = await runCli("node", ["recover", String(nodes[0]!.port), "--all", "--yes"]);
    assert.equal(recovered.code, 0, recovered.stdout + recovered.stderr);
    assert.match(recovered.stdout, /recovered \d+ ranges in epoch \d+/);
    const ring = await json(`${nodes[0]!.url}/cluster/ring`);
    assert.match(ring.recoveries.at(-1).by, /mod\.ts recover/);

    await until("every key readable again", 30_000, async () => {
      for (let i = 0; i < KEYS; i++) {
        const res = await fetch(`${live[i % live.length]!.url}/d/k${i}`);
        if (res.status !== 200 || (await res.text()) !== `v${i}`) return false;
      }
      return true;
    });
    await until("status exits 0", 30_000, async () => (await runCli("node", ["status", String(nodes[0]!.port)])).code === 0);
  } finally {
    await Promise.all(nodes.map((n) => n.stop("SIGKILL")));
  }
});
