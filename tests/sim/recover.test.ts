/**
 * An operator's recovery of ranges that lost a quorum of their owners (`/cluster/recover`,
 * as `mod.ts recover` and the dashboard use it): what it says it keeps is kept, the keys are
 * served again, the history after it is linearizable, and the ring and the event log record
 * it.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { checkHistory, type Operation } from "../../lib/check/linearizability.ts";
import { seededRandom } from "../../lib/env.ts";
import { ringPosition } from "../../lib/ring/hash.ts";
import { randomOperation } from "../support/history.ts";
import { call, formRing, seeds, simCluster, waitFor, withSeed } from "../support/sim.ts";

const NODES = 8;
const config = { syncIntervalMs: 2_000 };

interface Write {
  key: string;
  value: string;
  call: number;
  ret?: number;
}

for (const seed of seeds(2, 701)) {
  test(`seed ${seed}: recover keeps what it says, serves the lost ranges again, and the history after it is linearizable`, () =>
    withSeed(seed, async () => {
      const c = simCluster({ seed, network: { minDelayMs: 1, maxDelayMs: 10, loss: 0 }, config });
      for (let i = 0; i < NODES; i++) c.add();
      assert.ok((await formRing(c, NODES)) !== undefined, "the ring formed");
      const random = seededRandom(seed);
      const ids = c.liveIds();
      const crashed = ids.slice(1).sort(() => random.next() - 0.5).slice(0, 2);
      // Keys both crashed members own, with the same third owner: ranges that will lose their quorum.
      const layout = c.nodes.get(ids[0]!)!.topology.layout;
      const survivorOf = (k: string) => layout.placement(ringPosition(k)).read.find((o) => !crashed.includes(o))!;
      const shared = Array.from({ length: 5_000 }, (_, i) => `w${i}`)
        .filter((k) => layout.placement(ringPosition(k)).read.filter((o) => crashed.includes(o)).length === 2);
      const counts = new Map<string, number>();
      for (const k of shared) counts.set(survivorOf(k), (counts.get(survivorOf(k)) ?? 0) + 1);
      const survivor = [...counts].sort((a, b) => b[1] - a[1])[0]![0];
      const doomed = shared.filter((k) => survivorOf(k) === survivor).slice(0, 12);
      assert.ok(doomed.length >= 6, "enough keys in the ranges that will lose their quorum");

      // Writers keep overwriting those keys until the crash.
      const writes: Write[] = [];
      let writing = true;
      const writer = async (n: number) => {
        for (let i = 0; writing; i++) {
          const key = doomed[(n + i) % doomed.length]!;
          // Through the members that will crash: the hints they keep for the survivor die with them.
          const node = c.nodes.get(crashed[Math.floor(random.next() * crashed.length)]!);
          if (!node) break;
          const w: Write = { key, value: `${key}:${n}:${i}`, call: c.clock.now() };
          writes.push(w);
          const res = await node.fetch(new Request(`http://${node.id}/d/${key}`, { method: "PUT", body: w.value }));
          if (res.status === 204) w.ret = c.clock.now();
          await new Promise<void>((resolve) => c.clock.setTimeout(resolve, 50 + random.next() * 50));
        }
      };
      const writers = [0, 1, 2].map(writer);
      await c.run(10_000); // several anti-entropy rounds: the survivors' records of the lost owners grow
      // The survivor misses the last writes (cut off from the others, too briefly to be suspected):
      // acknowledged by the two that then crash, they are what a recovery may lose.
      c.network.cut([survivor], ids.filter((id) => id !== survivor));
      await c.run(2_500);
      for (const id of crashed) void c.crash(id);
      c.network.heal();
      await c.run(300);
      writing = false;
      await c.runUntil(Promise.all(writers), "the writers' last writes", 20_000);
      const via = ids[0]!;
      const node = c.nodes.get(via)!;
      assert.ok(await waitFor(c, 40_000, () => !node.topology.state.members.some((m) => crashed.includes(m.id))) !== undefined, "the dead left the ring");

      // The listing: the ranges that lost their quorum, and what a recovery keeps.
      const listing = await (await call(c, via, "GET /cluster/recover")).json() as {
        ranges: Array<{ range: string; dead: string[]; survivors: string[]; kept: { all: boolean; before?: number }; says: string }>;
        warning: string;
      };
      assert.ok(listing.ranges.length > 0);
      assert.match(listing.warning, /gone for good/);
      for (const r of listing.ranges) {
        assert.deepEqual([...r.dead].sort(), [...crashed].sort().filter((id) => r.dead.includes(id)));
        assert.ok(r.survivors.every((id) => !crashed.includes(id)));
      }
      const crashAt = writes.filter((w) => w.ret !== undefined).at(-1)!.ret!;
      const bounds = listing.ranges.map((r) => r.kept.before).filter((b): b is number => b !== undefined);
      assert.ok(bounds.length > 0, `some range has a time bound: ${listing.ranges.map((r) => r.says).join(" | ")}`);
      assert.ok(Math.min(...bounds) > crashAt - 6 * config.syncIntervalMs, "the bound trails the crash by a few anti-entropy rounds at most");

      // Bad requests change nothing.
      for (const body of ["not json", "{}", '{"all": true}', '{"ranges": ["zz"], "by": "x"}', '{"all": true, "ranges": [], "by": "x"}']) {
        assert.equal((await call(c, via, "POST /cluster/recover", body)).status, 400, body);
      }
      assert.equal((await call(c, via, "POST /cluster/recover", JSON.stringify({ ranges: ["0000000000000000-0000000000000001"], by: "x" }))).status, 404);
      assert.ok(node.topology.state.pins.length > 0 && node.topology.state.recoveries.length === 0);

      const res = await call(c, via, "POST /cluster/recover", JSON.stringify({ all: true, by: "test@sim" }));
      assert.equal(res.status, 200, await res.clone().text());
      const done = await res.json() as { epoch: number; recovered: Array<{ range: string }> };
      assert.equal(done.recovered.length, listing.ranges.length);

      // Recorded in the ring and in every live node's event log.
      const ring = await (await call(c, via, "GET /cluster/ring")).json() as { recoveries: Array<{ by: string; ranges: string[]; lost: string[] }>; quorumLost: number };
      assert.equal(ring.recoveries.at(-1)!.by, "test@sim");
      assert.equal(ring.recoveries.at(-1)!.ranges.length, listing.ranges.length);
      assert.ok(await waitFor(c, 10_000, () => c.liveIds().every((id) => c.nodes.get(id)!.swim.events.recent().some((e) => e.event === "recovered" && crashed.includes(e.id)))) !== undefined);
      assert.ok(await waitFor(c, 30_000, () => c.liveIds().every((id) => c.nodes.get(id)!.topology.state.pins.length === 0)) !== undefined, "the recovered ranges moved back to the ring's owners");

      // What it said it keeps is there: no read returns a value older than the last write acknowledged before the bound.
      const keptOf = (key: string) => {
        const p = ringPosition(key);
        return listing.ranges.find((r) => {
          const [lo, hi] = r.range.split("-").map((h) => BigInt(`0x${h}`));
          return p >= lo! && p <= hi!;
        })?.kept;
      };
      const initial: Operation[] = [];
      let checked = 0;
      for (const key of doomed) {
        const res = await call(c, via, `GET /d/${key}`);
        assert.ok(res.status === 200 || res.status === 404, `${key} is served again (${res.status})`);
        const value = res.status === 200 ? await res.text() : null;
        // What the recovery left is where the history after it starts.
        initial.push(value === null ? { kind: "delete", key, found: false, call: 0, ret: 1 } : { kind: "put", key, value, call: 0, ret: 1 });
        const kept = keptOf(key);
        const before = kept === undefined ? undefined : kept.all ? Infinity : kept.before;
        const last = writes.filter((w) => w.key === key && w.ret !== undefined && before !== undefined && w.ret < before).at(-1);
        if (!last) continue;
        checked++;
        const found = writes.find((w) => w.value === value);
        assert.ok(found, `${key}: read ${value}, which no writer wrote, though ${last.value} was acknowledged before the bound`);
        assert.ok(found.ret === undefined || found.ret >= last.call, `${key}: read ${value}, older than ${last.value}, acknowledged before the bound`);
      }
      assert.ok(checked >= doomed.length / 2, `the bound covered ${checked} of ${doomed.length} keys`);

      // From the recovery on, those keys are linearizable again.
      const history: Operation[] = [];
      const keys = doomed.slice(0, 4);
      const clients = [0, 1, 2, 3].map(async (n) => {
        for (let i = 0; i < 25; i++) {
          const live = c.liveIds();
          const through = c.nodes.get(live[Math.floor(random.next() * live.length)]!)!;
          const op = await randomOperation(c, through, keys[Math.floor(random.next() * keys.length)]!, random.next(), `r${n}-${i}`);
          if (op) history.push(op);
        }
      });
      await c.runUntil(Promise.all(clients), "the clients after the recovery", 60_000);
      assert.ok(history.filter((op) => op.ret !== undefined).length > 50, "the recovered keys answer");
      const result = checkHistory([...initial.filter((op) => keys.includes(op.key)), ...history]);
      assert.ok(result.ok, `not linearizable after the recovery on ${result.key}`);
      for (const n of c.nodes.values()) await n.stop();
    }));
}
