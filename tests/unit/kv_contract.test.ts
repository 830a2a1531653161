/** The key-value contract against a lone node in-process, and a simulated 5-node cluster. */
import { test } from "node:test";
import { defaultConfig } from "../../lib/config.ts";
import { createNode } from "../../lib/node.ts";
import { CONTRACT_MAX_VALUE_BYTES, kvContract } from "../support/kv_contract.ts";
import { testEnv } from "../support/env.ts";
import { formRing, simCluster } from "../support/sim.ts";

test("the KV contract holds on a lone node", async () => {
  const node = createNode(defaultConfig({ port: 8000, maxValueBytes: CONTRACT_MAX_VALUE_BYTES }), testEnv(), { runtime: "test" });
  await kvContract({
    nodes: 1,
    send: async (_via, method, path, body, headers) => node.fetch(new Request(`http://n${path}`, { method, body, headers })),
  });
  await node.stop();
});

test("the KV contract holds on a simulated 5-node cluster, through every node", async () => {
  const c = simCluster({ seed: 7, network: { minDelayMs: 1, maxDelayMs: 5, loss: 0 }, config: { maxValueBytes: CONTRACT_MAX_VALUE_BYTES } });
  await c.grow(5);
  if ((await formRing(c, 5)) === undefined) throw new Error("the simulated ring never formed");
  const ids = c.liveIds();
  await kvContract({
    nodes: ids.length,
    send(via, method, path, body, headers) {
      const id = ids[via % ids.length]!;
      return c.runUntil(c.nodes.get(id)!.fetch(new Request(`http://${id}${path}`, { method, body, headers })), `${method} ${path} through ${id}`);
    },
  });
});
