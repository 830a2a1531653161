/** The key-value contract against real processes: a cluster of Node, Bun and Deno nodes over HTTP. */
import { test } from "node:test";
import { runtimes, type RunningNode, startNode } from "../support/processes.ts";
import { CONTRACT_MAX_VALUE_BYTES, kvContract } from "../support/kv_contract.ts";

const options = ["--protocol-period-ms", "500", "--ping-timeout-ms", "250", "--max-value-bytes", String(CONTRACT_MAX_VALUE_BYTES)];

/** Every node's ring holds all of them, with one checksum; fails with a message at the deadline. */
async function agreed(nodes: RunningNode[], limitMs = 30_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const rings = await Promise.all(nodes.map(async (n) => (await fetch(`${n.url}/cluster/ring`)).json()));
    if (rings.every((r) => r.members.length === nodes.length && r.phase === "stable") && new Set(rings.map((r) => r.checksum)).size === 1) return;
    if (Date.now() > deadline) throw new Error(`the rings did not agree within ${limitMs} ms: ${JSON.stringify(rings.map((r) => [r.epoch, r.phase, r.members.length]))}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

test("the KV contract holds on a cluster of real Node, Bun and Deno processes", async () => {
  const first = await startNode(runtimes[0], options);
  const nodes = [first];
  try {
    nodes.push(...await Promise.all(runtimes.slice(1).map((rt) => startNode(rt, [String(first.port), ...options]))));
    await agreed(nodes);
    await kvContract({
      nodes: nodes.length,
      send: (via, method, path, body, headers) => fetch(`${nodes[via % nodes.length]!.url}${path}`, { method, body, headers }),
    });
  } finally {
    await Promise.all(nodes.map((n) => n.stop("SIGKILL")));
  }
});
