/**
 * The cluster keyring in the simulator: five nodes sealing every message under one key
 * form a ring and serve; a node with another key, or none, is never admitted; and the
 * keys rotate with no restart under client writes (add the new key everywhere, make it
 * first everywhere, drop the old), with nobody suspected and every write acknowledged.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Keyring } from "../../lib/peer/keyring.ts";
import { simAead } from "../support/aead.ts";
import { call, formRing, simCluster } from "../support/sim.ts";

const key = (fill: number) => new Uint8Array(32).fill(fill);

test("sealed under one key, a cluster forms and serves; a node of another key or none is never admitted", async () => {
  const keyring = await Keyring.of([key(1)], simAead);
  const c = simCluster({ seed: 7, network: { minDelayMs: 1, maxDelayMs: 5, loss: 0 }, node: {} });
  for (let i = 0; i < 3; i++) c.add(undefined, undefined, { keyring });
  assert.ok((await formRing(c, 3)) !== undefined, "the ring formed");
  const ids = c.liveIds();
  assert.equal((await call(c, ids[0]!, "PUT /d/k", "v")).status, 204);
  assert.equal(await (await call(c, ids[1]!, "GET /d/k")).text(), "v");
  const strangers = [c.add(undefined, undefined, { keyring: await Keyring.of([key(2)], simAead) }), c.add()];
  await c.run(10_000);
  for (const id of ids) {
    const members = c.nodes.get(id)!.swim.members().map((m) => m.id);
    for (const s of strangers) assert.ok(!members.includes(s.id), `${id} never took in ${s.id}: ${members}`);
    assert.equal(c.nodes.get(id)!.topology.state.members.length, 3);
  }
});

/** Five nodes under `old`; each step given to one node at a time with a write between. What failed. */
async function rotate(steps: Uint8Array[][]) {
  const c = simCluster({ seed: 8, network: { minDelayMs: 1, maxDelayMs: 5, loss: 0 } });
  const first = await Keyring.of([key(1)], simAead);
  for (let i = 0; i < 5; i++) c.add(undefined, undefined, { keyring: first });
  assert.ok((await formRing(c, 5)) !== undefined, "the ring formed");
  const ids = c.liveIds();
  let suspected = 0;
  for (const id of ids) c.nodes.get(id)!.swim.onChange((m) => void (m.state !== "alive" && suspected++));
  const failed: string[] = [];
  for (const [s, step] of steps.entries()) {
    const ring = await Keyring.of(step, simAead);
    // One node at a time, writes between: a rolling change, as an operator's SIGHUPs would be.
    for (const [i, id] of ids.entries()) {
      c.nodes.get(id)!.useKeyring(ring);
      const res = await call(c, ids[(i + 1) % ids.length]!, `PUT /d/k${s}-${i}`, "v");
      if (res.status !== 204) failed.push(`step ${s + 1} after ${id}: ${res.status} ${await res.text()}`);
      await c.run(300);
    }
  }
  await c.run(5_000);
  return { failed, suspected };
}

test("keys rotate without a restart under writes: nobody is suspected, every write is acknowledged", async () => {
  const [old, next] = [key(1), key(2)];
  assert.deepEqual(await rotate([[old, next], [next, old], [next]]), { failed: [], suspected: 0 });
});

test("control: switching each node straight to the new key fails writes and suspects members on the way", async () => {
  const { failed, suspected } = await rotate([[key(2)]]);
  assert.ok(failed.length > 0 || suspected > 0, "a one-step change cuts the switched nodes off from the rest");
});
