/**
 * The driver loop's pace among simulated nodes: a settled ring's loops look for work every
 * SETTLED_TICK_MS instead of every DRIVER_TICK_MS, and news wakes them, so the ring reacts
 * to a crash, a join or a leave as quickly as before.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { SimCluster } from "../../lib/sim/cluster.ts";
import { DRIVER_TICK_MS, SETTLED_TICK_MS } from "../../lib/topology/tick_pace.ts";
import { formRing, seeds, simCluster, waitFor, withSeed } from "../support/sim.ts";

const SIZE = 5;

async function settledCluster(seed: number): Promise<SimCluster> {
  const c = simCluster({ seed });
  await c.grow(SIZE);
  assert.ok((await formRing(c, SIZE)) !== undefined, "the ring formed");
  await c.run(5_000);
  return c;
}

const ticks = (c: SimCluster) => new Map(c.liveIds().map((id) => [id, c.nodes.get(id)!.driver.ticks]));

/** Whether node `id`'s loop looks again within DRIVER_TICK_MS of now. */
async function looksSoon(c: SimCluster, id: string, since = c.nodes.get(id)!.driver.ticks): Promise<boolean> {
  await c.run(DRIVER_TICK_MS + 5);
  return c.nodes.get(id)!.driver.ticks > since;
}

for (const seed of seeds(3)) {
  test(`seed ${seed}: a settled ring's loops look every ${SETTLED_TICK_MS} ms, not every ${DRIVER_TICK_MS}`, () =>
    withSeed(seed, async () => {
      const c = await settledCluster(seed);
      const before = ticks(c);
      await c.run(20_000);
      for (const [id, n] of ticks(c)) {
        const looked = n - before.get(id)!;
        assert.ok(looked <= 20_000 / SETTLED_TICK_MS + 1, `${id} looked ${looked} times in 20 s`);
      }
      await Promise.all([...c.nodes.values()].map((n) => n.stop()));
    }));

  test(`seed ${seed}: news wakes a settled loop: it looks within ${DRIVER_TICK_MS} ms of a hello, and of a member's change in SWIM`, () =>
    withSeed(seed, async () => {
      const c = await settledCluster(seed);
      const [driver, , victim, other] = c.liveIds();
      c.nodes.get(driver!)!.topology.answer({ type: "hello", from: { id: "10.9.9.9:7000", nonce: "x" }, leaving: false });
      assert.ok(await looksSoon(c, driver!), "the driver looked after a hello");
      await c.run(10_000); // the hello goes stale, and the loops settle again
      let atChange: number | undefined;
      const node = c.nodes.get(other!)!;
      node.swim.onChange(() => (atChange ??= node.driver.ticks));
      await c.crash(victim!);
      assert.ok((await waitFor(c, 10_000, () => atChange !== undefined, 5)) !== undefined, "SWIM noticed the crash");
      assert.ok(await looksSoon(c, other!, atChange), "a member looked after SWIM changed its view of another");
      await Promise.all([...c.nodes.values()].map((n) => n.stop()));
    }));
}
