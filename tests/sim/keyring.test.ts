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
import { overFrames } from "../../lib/sim/cluster.ts";
import { labelFor } from "../../lib/wire/label.ts";
import { decodeBatch, decodeKvRequest } from "../../lib/wire/replica.ts";
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

/**
 * Every message one node received while keys were written, captured sealed as it arrived,
 * is replayed to it after the keys were overwritten or deleted and a node joined (a new
 * epoch): no key reads back older, the ring stays at its epoch, every member stays alive.
 * The keyring does not refuse a replay; versions, ballots, epochs and incarnations do.
 */
test("captured sealed messages replayed later change nothing", async () => {
  const keyring = await Keyring.of([key(5)], simAead);
  const c = simCluster({ seed: 9, network: { minDelayMs: 1, maxDelayMs: 5, loss: 0 } });
  for (let i = 0; i < 4; i++) c.add(undefined, undefined, { keyring });
  assert.ok((await formRing(c, 4)) !== undefined, "the ring formed");
  const ids = c.liveIds();
  const target = ids[1]!;
  const captured: Array<[string, Uint8Array]> = [];
  const carrier = overFrames(c.nodes.get(target)!);
  c.network.attach(target, (path, body) => {
    captured.push([path, body]);
    return carrier(path, body);
  });
  const keys = Array.from({ length: 12 }, (_, i) => `k${i}`);
  for (const k of keys) assert.equal((await call(c, ids[0]!, `PUT /d/${k}`, "old")).status, 204);
  const conditional = (via: string, value: string, headers: Record<string, string>) =>
    c.runUntil(c.nodes.get(via)!.fetch(new Request(`http://${via}/d/cas`, { method: "PUT", body: value, headers })), `CAS through ${via}`);
  const created = await conditional(ids[2]!, "one", { "if-none-match": "*" });
  assert.equal(created.status, 204);
  await c.run(2_000);
  c.network.attach(target, carrier); // capture ends
  const kinds = new Set(captured.map(([path]) => path));
  for (const path of ["/_kv/batch", "/_swim/ping"]) assert.ok(kinds.has(path), `captured ${path}: ${[...kinds]}`);
  // What is replayed could do harm if nothing ordered it: puts of the old values, and the conditional write's accept.
  const label = labelFor("dht");
  const opened = await Promise.all(captured.filter(([path]) => path === "/_kv/batch").map(([path, body]) =>
    keyring.open(new Uint8Array([...label, ...new TextEncoder().encode(path), 0]), body.subarray(label.byteLength))));
  const requests = opened.flatMap((batch) => decodeBatch(batch, 128).map(decodeKvRequest));
  assert.ok(requests.filter((r) => r.type === "put" && new TextDecoder().decode(r.entry.value) === "old").length >= 4, "puts of the old values were captured");
  assert.ok(requests.some((r) => r.type === "accept"), "the conditional write's accept was captured");

  for (const [i, k] of keys.entries()) assert.equal((await call(c, ids[3]!, i % 3 ? `PUT /d/${k}` : `DELETE /d/${k}`, i % 3 ? "new" : undefined)).status, 204);
  assert.equal((await conditional(ids[3]!, "two", { "if-match": `"${created.headers.get("x-dht-version")}"` })).status, 204);
  c.add(undefined, undefined, { keyring });
  assert.ok((await formRing(c, 5)) !== undefined, "a fifth node joined");
  const epoch = c.nodes.get(target)!.topology.epoch;

  const node = c.nodes.get(target)!;
  for (const [path, body] of captured) await c.runUntil(node.answerPeer(path, body), `replay of ${path}`);
  await c.run(5_000);
  assert.equal(node.topology.epoch, epoch, "the ring did not move");
  for (const id of c.liveIds()) {
    const states = c.nodes.get(id)!.swim.members().filter((m) => c.liveIds().includes(m.id)).map((m) => m.state);
    assert.deepEqual([...new Set(states)], ["alive"], `${id} sees every member alive`);
  }
  for (const [i, k] of keys.entries()) {
    for (const id of c.liveIds()) {
      const res = await call(c, id, `GET /d/${k}`);
      if (i % 3) assert.equal(await res.text(), "new", `${k} through ${id}`);
      else assert.equal(res.status, 404, `${k} stays deleted through ${id}`);
    }
  }
  assert.equal(await (await call(c, ids[0]!, "GET /d/cas")).text(), "two");
});
