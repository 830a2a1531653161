/**
 * The owner-aware client (`dht-node/client`) against simulated nodes: it places keys where
 * the nodes do, sends each request to an owner first, keeps answering through a crashed
 * owner, and follows the ring's epochs. Its fetch reaches the simulated nodes; virtual time
 * runs while a call waits.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { type Client, connect, type ConnectOptions, DhtError } from "../../client/mod.ts";
import type { SimCluster } from "../../lib/sim/cluster.ts";
import { call, formRing, seeds, simCluster, waitFor, withSeed } from "../support/sim.ts";

/** A fetch to the simulated nodes: a crashed one refuses the connection, as a real one would. */
function simFetch(c: SimCluster, firstTries: string[]): NonNullable<ConnectOptions["fetch"]> {
  return (input, init) => {
    const url = new URL(input);
    if (url.pathname.startsWith("/d/")) firstTries.push(`${init.method} ${decodeURIComponent(url.pathname.slice(3))} ${url.host}`);
    const node = c.nodes.get(url.host);
    if (!node || c.network.isDown(url.host)) return Promise.reject(Object.assign(new TypeError("fetch failed"), { cause: { code: "ECONNREFUSED" } }));
    return Promise.resolve(node.fetch(new Request(input, init)));
  };
}

async function cluster(seed: number, nodes: number) {
  const c = simCluster({ seed, network: { minDelayMs: 1, maxDelayMs: 5, loss: 0 }, config: { removalDelayMs: 1_000 } });
  for (let i = 0; i < nodes; i++) c.add();
  assert.ok((await formRing(c, nodes)) !== undefined, "the ring formed");
  return c;
}

/** Runs a client call with virtual time going until it settles. */
const run = <T>(c: SimCluster, work: Promise<T>, what = "a client call") => c.runUntil(work, what, 20_000);

const open = (c: SimCluster, tries: string[], options: ConnectOptions = {}): Promise<Client> =>
  run(c, connect(c.liveIds()[0]!, { fetch: simFetch(c, tries), backoffMs: 1, maxBackoffMs: 4, ...options }), "connect");

for (const seed of seeds(1, 801)) {
  test(`seed ${seed}: the client places every key where /cluster/locate does and sends it to an owner first; a plain client does not`, () =>
    withSeed(seed, async () => {
      const c = await cluster(seed, 6);
      const tries: string[] = [];
      const db = await open(c, tries);
      const keys = Array.from({ length: 40 }, (_, i) => `user:${i}`);
      for (const key of keys) {
        const located: string[] = (await (await call(c, c.liveIds()[1]!, `GET /cluster/locate/${key}`)).json()).replicas;
        assert.deepEqual(db.owners(key), located, key);
        assert.equal((await run(c, db.put(key, `v-${key}`))).ok, true);
        assert.equal((await run(c, db.get(key)))?.text(), `v-${key}`);
      }
      const toOwners = (log: string[]) => log.filter((t) => db.owners(t.split(" ")[1]!).includes(t.split(" ")[2]!)).length;
      assert.equal(toOwners(tries), tries.length, `every request went to an owner:\n${tries.filter((t) => !db.owners(t.split(" ")[1]!).includes(t.split(" ")[2]!)).join("\n")}`);

      // The control: the same calls from a client that ignores the ring reach non-owners (3 of 6 nodes own each key).
      const plain: string[] = [];
      const anyNode = await open(c, plain, { ownerAware: false });
      for (const key of keys) await run(c, anyNode.get(key));
      assert.ok(toOwners(plain) < plain.length * 0.8, `a plain client reaches owners ${toOwners(plain)} times of ${plain.length}`);
    }));

  test(`seed ${seed}: an owner crashes: every call still answers, and the client's ring follows the epochs that remove it`, () =>
    withSeed(seed, async () => {
      const c = await cluster(seed, 5);
      const tries: string[] = [];
      const db = await open(c, tries, { ringCheckMs: 200 });
      const keys = Array.from({ length: 30 }, (_, i) => `k${i}`);
      for (const key of keys) assert.equal((await run(c, db.put(key, "before"))).ok, true);
      const victim = db.owners("k0")[0]!;
      const epoch = db.ring!.epoch;
      await c.crash(victim);
      for (const key of keys) {
        assert.equal((await run(c, db.get(key)))?.text(), "before", `${key} read after the crash`);
        assert.equal((await run(c, db.put(key, "after"))).ok, true, `${key} written after the crash`);
      }
      assert.ok(tries.some((t) => t.endsWith(` ${victim}`)), "some calls tried the crashed owner first");
      const removed = await waitFor(c, 30_000, () => c.liveIds().every((id) => !c.nodes.get(id)!.topology.state.members.some((m) => m.id === victim)), 200);
      assert.ok(removed !== undefined, "the ring removed the crashed member");
      await c.run(3_000);
      await run(c, db.get("k1")); // a call after ringCheckMs looks at the epoch
      await run(c, db.refresh());
      assert.ok(db.ring!.epoch > epoch, `the client's ring moved on from epoch ${epoch}: ${db.ring!.epoch}`);
      assert.ok(!db.ring!.members.includes(victim), "and no longer names the crashed member");
      tries.length = 0;
      for (const key of keys) assert.equal((await run(c, db.get(key)))?.text(), "after");
      assert.ok(!tries.some((t) => t.endsWith(` ${victim}`)), "nothing is sent to it any more");
    }));

  test(`seed ${seed}: conditional writes, deletes and listing through the client`, () =>
    withSeed(seed, async () => {
      const c = await cluster(seed, 4);
      const db = await open(c, []);
      const created = await run(c, db.put("lock", "me", { ifAbsent: true }));
      assert.ok(created.ok && created.version);
      const again = await run(c, db.put("lock", "you", { ifAbsent: true }));
      assert.deepEqual(again, { ok: false, current: created.version });
      await assert.rejects(run(c, db.put("lock", "you", { ifMatch: "nonsense" })), (e) => e instanceof DhtError && e.status === 400, "a malformed version: the node's 400");
      const swapped = await run(c, db.put("lock", "you", { ifMatch: created.version }));
      assert.ok(swapped.ok);
      assert.deepEqual(await run(c, db.delete("lock", { ifMatch: created.version })), { ok: false, current: swapped.version });
      const read = await run(c, db.get("lock"));
      assert.equal(read?.text(), "you");
      assert.equal(read?.contentType, "text/plain; charset=utf-8");
      assert.ok((await run(c, db.delete("lock", { ifMatch: read!.version }))).ok);
      assert.equal(await run(c, db.get("lock")), undefined);
      assert.deepEqual(await run(c, db.delete("lock")), { ok: true }, "deleting what is absent: ok, no version");
      for (const k of ["a/1", "a/2", "b/1"]) await run(c, db.put(k, k, { ttlSeconds: 60 }));
      assert.deepEqual(await run(c, db.list({ prefix: "a/" })), { keys: ["a/1", "a/2"], next: null });
    }));
}
