/** The key-value contract against real processes: a cluster of Node, Bun and Deno nodes over HTTP. */
import { test } from "node:test";
import { ringsAgree, runtimes, startNode } from "../support/processes.ts";
import { CONTRACT_MAX_VALUE_BYTES, kvContract } from "../support/kv_contract.ts";

const options = ["--protocol-period-ms", "500", "--ping-timeout-ms", "250", "--max-value-bytes", String(CONTRACT_MAX_VALUE_BYTES)];

test("the KV contract holds on a cluster of real Node, Bun and Deno processes", async () => {
  const first = await startNode(runtimes[0], options);
  const nodes = [first];
  try {
    nodes.push(...await Promise.all(runtimes.slice(1).map((rt) => startNode(rt, [String(first.port), ...options]))));
    await ringsAgree(nodes);
    await kvContract({
      nodes: nodes.length,
      send: (via, method, path, body, headers) => fetch(`${nodes[via % nodes.length]!.url}${path}`, { method, body, headers }),
    });
  } finally {
    await Promise.all(nodes.map((n) => n.stop("SIGKILL")));
  }
});
