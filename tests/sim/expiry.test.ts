/**
 * Expiry is part of the replicated entry, not a local timer: after a value's deadline every
 * node answers 404, including an owner that was cut off while the value was written (it
 * still holds the value before, without an expiry) and nodes whose clocks run behind the
 * writer's by less than --expiry-skew-ms. With clocks in step, histories that mix values
 * with ttls, plain and conditional writes are linearizable, each value expiring once, at
 * its deadline less the skew allowance.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { checkHistory, type Operation } from "../../lib/check/linearizability.ts";
import { seededRandom } from "../../lib/env.ts";
import { readKey } from "../support/cas.ts";
import { call, formRing, seeds, simCluster, withSeed } from "../support/sim.ts";

for (const seed of seeds(2, 501)) {
  test(`seed ${seed}: after the deadline every node reads 404, the owner that missed the write and the slow clocks too`, () =>
    withSeed(seed, async () => {
      const skews = [0, -800, 600, -300, 0];
      const c = simCluster({ seed, network: { minDelayMs: 1, maxDelayMs: 10, loss: 0 }, skewMs: (i) => skews[i] ?? 0 });
      for (let i = 0; i < 5; i++) c.add();
      assert.ok((await formRing(c, 5)) !== undefined, "the ring formed");
      const ids = c.liveIds();
      const first = ids[0]!;
      assert.equal((await call(c, first, "PUT /d/session", "old")).status, 204);
      const owners: string[] = (await (await call(c, first, "GET /cluster/locate/session")).json()).replicas;
      const missed = owners[2]!;
      const writer = ids.find((id) => !owners.includes(id)) ?? ids.find((id) => id !== missed)!;
      await c.run(500);

      // One owner is cut off while the value with a time to live is written.
      c.network.partition([missed], ids.filter((id) => id !== missed));
      const put = await call(c, writer, "PUT /d/session?ttl=20", "new");
      assert.equal(put.status, 204, await put.clone().text());
      const expires = Number(put.headers.get("x-dht-expires"));
      assert.equal(c.nodes.get(missed)!.store.get("session")?.expires, undefined, "the cut-off owner holds the old value, no expiry");
      await c.run(2_000);
      c.network.heal();
      await c.run(3_000);
      for (const id of ids) assert.equal(await (await call(c, id, "GET /d/session")).text(), "new", `before the deadline through ${id}`);

      // Past the deadline, by the writer's clock: 404 through every node.
      const writerSkew = skews[ids.indexOf(writer)] ?? 0;
      await c.run(expires - (c.clock.now() + writerSkew) + 1);
      for (const id of ids) assert.equal((await call(c, id, "GET /d/session")).status, 404, `after the deadline through ${id}`);
      // The owner that missed the write learned the entry with its expiry (repair or anti-entropy).
      await c.run(15_000);
      assert.equal(c.nodes.get(missed)!.store.get("session")?.expires, expires);
    }));
}

for (const seed of seeds(2, 511)) {
  test(`seed ${seed}: values with ttls among plain and conditional writes, under loss: linearizable, each expiring once at its deadline`, () =>
    withSeed(seed, async () => {
      const c = simCluster({ seed, network: { minDelayMs: 1, maxDelayMs: 10, loss: 0 } });
      for (let i = 0; i < 5; i++) c.add();
      assert.ok((await formRing(c, 5)) !== undefined, "the ring formed");
      c.network.options.loss = 0.02;
      const random = seededRandom(seed);
      const ids = c.liveIds();
      const history: Operation[] = [];
      const started = c.clock.now();
      const skewAllowance = 1_000; // --expiry-skew-ms's default; no clock here is skewed
      let running = 4;
      const client = async (n: number) => {
        for (let i = 0; c.clock.now() - started < 15_000; i++) {
          const node = c.nodes.get(ids[Math.floor(random.next() * ids.length)]!)!;
          const key = random.next() < 0.5 ? "x" : "y";
          const read = await readKey(c, node, key, history);
          const roll = random.next();
          const ttl = 1 + Math.floor(random.next() * 3);
          const value = `c${n}-${i}`;
          const call = c.clock.now();
          const conditional = roll < 0.5 && read !== undefined;
          const headers: Record<string, string> = !conditional ? {} : read ? { "if-match": `"${read.version}"` } : { "if-none-match": "*" };
          const path = roll < 0.8 ? `/d/${key}?ttl=${ttl}` : `/d/${key}`;
          const res = await node.fetch(new Request(`http://${node.id}${path}`, { method: "PUT", body: value, headers }));
          await res.body?.cancel();
          const known = res.status === 204 || (conditional && res.status === 412);
          const ret = known ? c.clock.now() : undefined;
          const at = Number(res.headers.get("x-dht-expires") ?? call + ttl * 1000) - skewAllowance;
          // It expires at its deadline, or as it takes effect if that is later (a value whose
          // ttl is within the skew allowance is expired on arrival).
          const expires = path.includes("ttl") ? { from: at - 1, to: res.status === 204 ? Math.max(at + 1, ret!) : Infinity } : undefined;
          if (conditional) history.push({ kind: "cas", key, expect: read ? read.value : null, value, won: res.status === 204, call, ret, expires });
          else history.push({ kind: "put", key, value, call, ret, expires });
          await new Promise<void>((resolve) => c.clock.setTimeout(resolve, random.next() * 400));
        }
        running--;
      };
      const all = Array.from({ length: 4 }, (_, n) => client(n));
      while (running > 0) await c.run(50);
      await Promise.all(all);
      const expiring = history.filter((op) => (op.kind === "put" || op.kind === "cas") && op.expires && op.ret !== undefined).length;
      const absentReads = history.filter((op) => op.kind === "get" && op.value === null).length;
      assert.ok(expiring > 10 && absentReads > 5, `${expiring} writes with a ttl answered, ${absentReads} reads found nothing`);
      const result = checkHistory(history);
      assert.ok(result.ok, `not linearizable on key ${result.key}: ${JSON.stringify(history.filter((op) => op.key === result.key))}`);
    }));
}
