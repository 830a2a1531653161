/**
 * A restarted process is a new member: it lost what it stored, so it must not count as the
 * owner it was. Three nodes (N = 3, W = 2, R = 2): C is paused, keys are written through A
 * and B, A is killed and restarted at its address, C comes back, and every key is read
 * through C at once. C's own copy is empty, so a read quorum of C and the new A would miss
 * the write; the new A refuses to answer as an owner, and C asks B. The control restarts A
 * claiming its old identity (its old nonce), and the same reads miss acknowledged writes.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { formRing, simCluster, withSeed } from "../support/sim.ts";

const KEYS = Array.from({ length: 20 }, (_, i) => `k${i}`);

async function readsAfterRestart(seed: number, sameNonce: boolean): Promise<{ statuses: number[]; wrong: string[] }> {
  const c = simCluster({ seed });
  for (let i = 0; i < 3; i++) c.add();
  assert.ok((await formRing(c, 3)) !== undefined, "the ring formed");
  const [b, a, paused] = c.liveIds();
  c.network.down(paused!);
  const request = (via: string, method: string, key: string, body?: string) =>
    c.runUntil(c.nodes.get(via)!.fetch(new Request(`http://${via}/d/${key}`, { method, body })), `${method} ${key} through ${via}`);
  for (const key of KEYS) assert.equal((await request(a!, "PUT", key, `v-${key}`)).status, 204, "W = 2: A and B");
  await c.crash(a!);
  c.restart(a!, { sameNonce });
  await c.run(200); // the new process is up and has joined membership
  c.network.up(paused!);
  const statuses: number[] = [];
  const wrong: string[] = [];
  for (const key of KEYS) {
    const res = await request(paused!, "GET", key);
    statuses.push(res.status);
    const text = await res.text();
    if (res.status !== 503 && !(res.status === 200 && text === `v-${key}`)) wrong.push(`${key}: ${res.status} ${text}`);
  }
  for (const n of c.nodes.values()) await n.stop();
  return { statuses, wrong };
}

for (const seed of [1, 2, 3]) {
  test(`seed ${seed}: reads right after a replica restarts never miss an acknowledged write`, () =>
    withSeed(seed, async () => {
      const { statuses, wrong } = await readsAfterRestart(seed, false);
      assert.deepEqual(wrong, []);
      assert.ok(statuses.filter((s) => s === 200).length >= KEYS.length / 2, `most reads answered: ${statuses}`);
    }));

  test(`control, seed ${seed}: a restarted process that claims its old identity makes reads miss acknowledged writes`, () =>
    withSeed(seed, async () => {
      const { wrong } = await readsAfterRestart(seed, true);
      assert.ok(wrong.length > 0, "some read through C answered 404");
    }));
}
