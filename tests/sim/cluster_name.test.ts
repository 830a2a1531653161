/**
 * Cluster names (`--cluster-name`): two clusters of three, then one of the second's nodes
 * restarted with the first's introducer by mistake. With different names every message
 * between them is refused and neither lists the other's members; the control (one name
 * for both, which is what no name at all amounts to) merges their memberships.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { SimCluster } from "../../lib/sim/cluster.ts";
import { seeds, simCluster, waitFor, withSeed } from "../support/sim.ts";

async function mistakenRestart(seed: number, first: string, second: string) {
  const c = simCluster({ seed, network: { minDelayMs: 1, maxDelayMs: 5, loss: 0 } });
  for (let i = 0; i < 3; i++) c.add(undefined, { clusterName: first });
  const founder = SimCluster.id(3);
  c.add([], { clusterName: second });
  for (let i = 0; i < 2; i++) c.add([founder], { clusterName: second });
  const ids = c.liveIds();
  const [ones, twos] = [ids.slice(0, 3), ids.slice(3)];
  const ringOf = (id: string) => c.nodes.get(id)!.topology.state.members.length;
  assert.ok((await waitFor(c, 30_000, () => ids.every((id) => ringOf(id) === 3))) !== undefined, "both rings formed");
  // A node of the second restarted with the first's address as its introducer.
  await c.crash(twos[2]!);
  c.restart(twos[2]!, { config: { clusterName: second } });
  await c.run(20_000);
  const listed = (id: string) => c.nodes.get(id)!.swim.members().map((m) => m.id);
  return { inFirst: listed(ones[0]!), inSecond: listed(twos[0]!), ones, twos };
}

for (const seed of seeds(2, 901)) {
  test(`seed ${seed}: two clusters of different names introduced to each other never merge`, () =>
    withSeed(seed, async () => {
      const { inFirst, inSecond, ones, twos } = await mistakenRestart(seed, "blue", "green");
      assert.deepEqual(inFirst.filter((id) => twos.includes(id)), [], `blue lists none of green's: ${inFirst}`);
      assert.deepEqual(inSecond.filter((id) => ones.includes(id)), [], `green lists none of blue's: ${inSecond}`);
    }));

  test(`control, seed ${seed}: under one name the same mistake merges the two memberships`, () =>
    withSeed(seed, async () => {
      const { inFirst, inSecond, ones, twos } = await mistakenRestart(seed, "dht", "dht");
      assert.ok(inFirst.some((id) => twos.includes(id)) || inSecond.some((id) => ones.includes(id)), `merged: ${inFirst} / ${inSecond}`);
    }));
}
