/**
 * /cluster/explain/{member}: the record an operator reads to learn why a member has its
 * state, built from simulated runs of the three things that go wrong: a crash, a member
 * too slow for a while (it refutes), and one lossy link (indirect probes cover it).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { SimCluster } from "../../lib/sim/cluster.ts";
import type { MemberEvent } from "../../lib/explain/events.ts";
import { formRing, seeds, simCluster, waitFor, withSeed } from "../support/sim.ts";

const done = async (c: SimCluster, limitMs: number, check: () => boolean) => (await waitFor(c, limitMs, check)) !== undefined;

async function explain(c: SimCluster, observer: string, id: string) {
  const res = await c.nodes.get(observer)!.fetch(new Request(`http://${observer}/cluster/explain/${encodeURIComponent(id)}`));
  assert.equal(res.status, 200);
  return (await res.json()) as { id: string; state: string; incarnation: number; inRing: boolean; events: MemberEvent[] };
}

async function cluster(seed: number, n: number): Promise<SimCluster> {
  const c = simCluster({ seed });
  await c.grow(n);
  assert.ok((await formRing(c, n)) !== undefined, "the ring formed");
  return c;
}

const kinds = (events: MemberEvent[]) => events.map((e) => e.event);

for (const seed of seeds(2, 41)) {
  test(`seed ${seed}: a crashed member's record says who failed to reach it, who suspected, the timeout, the death and the removal`, () =>
    withSeed(seed, async () => {
      const c = await cluster(seed, 6);
      const victim = c.liveIds()[2]!;
      await c.crash(victim);
      const survivors = c.liveIds();
      assert.ok(await done(c, 30_000, () => survivors.every((id) => !c.nodes.get(id)!.topology.layout.current.members().includes(victim))), "removed from every survivor's ring");
      const records = await Promise.all(survivors.map((id) => explain(c, id, victim)));
      for (const r of records) {
        assert.equal(r.state, "dead");
        assert.equal(r.inRing, false);
        const k = kinds(r.events);
        assert.ok(k.includes("dead") && k.includes("removed from ring"), `${k}`);
        assert.ok(k.lastIndexOf("dead") < k.lastIndexOf("removed from ring"), "dead before it was removed");
        const suspected = r.events.find((e) => e.event === "suspected");
        assert.ok(suspected && typeof suspected.by === "string", "who suspected it");
        assert.ok((suspected.timeoutMs as number) >= (suspected.minMs as number) && (suspected.timeoutMs as number) <= (suspected.maxMs as number), "the timeout that applied, within its bounds");
      }
      // A member that probed it has the probe's own story: the direct timeout, then the
      // helpers asked and their nacks. (A last check records an indirect probe too, with no
      // failed probe before it: the story looked at is the one after a failed probe.)
      const prober = records.find((r) => r.events.some((e) => e.event === "probe failed"));
      assert.ok(prober, "some survivor probed the victim");
      const k = kinds(prober.events);
      const indirect = prober.events[k.indexOf("indirect probe", k.indexOf("probe failed"))];
      assert.ok(indirect, "the failed probe asked helpers");
      assert.ok((indirect.asked as string[]).length > 0 && (indirect.acked as string[]).length === 0, JSON.stringify(indirect));
      const answers = ["nacked", "unsure", "silent"].map((field) => (indirect[field] as string[]).length);
      assert.equal(answers.reduce((a, b) => a + b), (indirect.asked as string[]).length);
      // Whoever declared it dead itself gave it one last ping first.
      const declarer = records.find((r) => r.events.some((e) => e.event === "dead" && e.by === survivors[records.indexOf(r)]));
      if (declarer) assert.ok(declarer.events.some((e) => e.event === "last ping" && e.acked === false), "the last ping before declaring it dead");
      // Confirmations shrink the timeout: a later one is never longer than the first suspicion's.
      for (const r of records) {
        const first = r.events.find((e) => e.event === "suspected");
        for (const conf of r.events.filter((e) => e.event === "confirmed")) assert.ok((conf.timeoutMs as number) <= (first!.timeoutMs as number));
      }
    }));

  test(`seed ${seed}: a member paused until suspected refutes: its record shows the suspicion, then the refutation with a higher incarnation`, () =>
    withSeed(seed, async () => {
      const c = await cluster(seed, 6);
      const slow = c.liveIds()[4]!;
      const others = c.liveIds([slow]);
      c.network.down(slow);
      assert.ok(await done(c, 10_000, () => others.some((id) => c.nodes.get(id)!.swim.members().find((m) => m.id === slow)?.state === "suspect")), "suspected while paused");
      c.network.up(slow);
      assert.ok(await done(c, 20_000, () => others.every((id) => c.nodes.get(id)!.swim.members().find((m) => m.id === slow)?.state === "alive")), "alive again everywhere");
      const suspecter = others.find((id) => c.nodes.get(id)!.swim.events.of(slow).some((e) => e.event === "suspected"))!;
      const r = await explain(c, suspecter, slow);
      assert.equal(r.state, "alive");
      const k = kinds(r.events);
      assert.ok(k.lastIndexOf("suspected") < k.lastIndexOf("refuted"), `${k}`);
      const suspected = r.events.findLast((e) => e.event === "suspected")!;
      const refuted = r.events.findLast((e) => e.event === "refuted")!;
      assert.ok((refuted.incarnation as number) > (suspected.incarnation as number), "refuted with a higher incarnation");
      assert.equal(refuted.was, "suspect");
      assert.ok(!k.includes("dead") && !k.includes("removed from ring"));
    }));

  test(`seed ${seed}: one cut link: the record shows direct probes failing and helpers reaching the member, and no death`, () =>
    withSeed(seed, async () => {
      const c = await cluster(seed, 6);
      const [a, b] = c.liveIds();
      c.network.cut([a!], [b!]);
      await c.run(20_000);
      const r = await explain(c, a!, b!);
      assert.equal(r.state, "alive");
      const reached = r.events.filter((e) => e.event === "indirect probe" && (e.acked as string[]).length > 0);
      assert.ok(r.events.some((e) => e.event === "probe failed"), "a's direct probes of b failed");
      assert.ok(reached.length > 0, `helpers reached b for a: ${JSON.stringify(r.events)}`);
      assert.ok(!kinds(r.events).includes("dead"));
    }));
}

test("explain: an unknown member is a JSON 404; a bad id a 400; the recent log is bounded and filtered by time", async () => {
  const c = await cluster(5, 3);
  const [a] = c.liveIds();
  const node = c.nodes.get(a!)!;
  const unknown = await node.fetch(new Request(`http://${a}/cluster/explain/10.9.9.9:1`));
  assert.equal(unknown.status, 404);
  assert.match((await unknown.json()).error, /no member/);
  assert.equal((await node.fetch(new Request(`http://${a}/cluster/explain/%E0%A4%A`))).status, 400);
  const all = (await (await node.fetch(new Request(`http://${a}/cluster/events`))).json()).events;
  assert.ok(all.length > 0 && all.every((e: { id: string; at: number }) => typeof e.id === "string"));
  const later = (await (await node.fetch(new Request(`http://${a}/cluster/events?after=${all.at(-1).at}`))).json()).events;
  assert.deepEqual(later, []);
  assert.equal((await node.fetch(new Request(`http://${a}/cluster/events?after=soon`))).status, 400);
});
