/**
 * SWIM's properties over many nodes, in the deterministic simulator: real nodes (the code
 * that serves HTTP) on a virtual clock and a seeded network. A failure names its seed;
 * `SEED=n` replays it.
 *
 * Bounds used below, with the defaults (period T = 1 s, ping timeout 0.5 s, k = 3,
 * suspicion mult 4, max mult 6, retransmit mult 4):
 * - Join: a joiner receives the full member list from its introducer at once; everyone
 *   else learns of it by gossip, each update piggybacked on up to 4·ceil(log10(N+1))
 *   messages, 24 updates a message, so news of 50 joins needs a few dozen messages per
 *   node: we allow 20 T after the last join (measured: 5-8 T).
 * - Crash: someone probes the dead member within a few periods (each of N-1 nodes probes
 *   one member per period; first detection is ~1.58 T on average, and fails to happen in
 *   5 T with probability ~e^-5), confirmations from other probers arrive within a few
 *   more periods, bringing each suspecter's timeout to its minimum of
 *   4·log10(N+1)·T (6.8 s at N = 50); the dead notice then spreads in O(log N) periods.
 *   So 5 T + 6.8 s + 5 T ≈ 17 s; we allow 20 s (measured: 10.6-11.6 s).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Config } from "../../lib/config.ts";
import { overFrames, type SimCluster } from "../../lib/sim/cluster.ts";
import { decodeMessage, encodeMessage } from "../../lib/wire/swim.ts";
import { stateChecksum } from "../../lib/topology/state.ts";
import { formRing, ringFormed, seeds, simCluster, waitFor, withSeed } from "../support/sim.ts";
import { readLabel } from "../../lib/wire/label.ts";
import { labelled, unlabelled } from "../support/label.ts";

const T = 1000;

/** Records every "dead" or "left" any node ever records about another. */
function recordDeaths(c: SimCluster): Array<{ observer: string; id: string; state: string; at: number }> {
  const seen: Array<{ observer: string; id: string; state: string; at: number }> = [];
  for (const [observer, node] of c.nodes) {
    node.swim.onChange((m) => {
      if (m.state === "dead" || m.state === "left") seen.push({ observer, id: m.id, state: m.state, at: c.clock.now() });
    });
  }
  return seen;
}

async function startCluster(seed: number, n: number, loss = 0, config: Partial<Config> = {}): Promise<SimCluster> {
  const c = simCluster({ seed, network: { loss }, config });
  for (let i = 0; i < n; i++) {
    c.add();
    if (i % 10 === 9) await c.run(100);
  }
  return c;
}

const allKnowAll = (c: SimCluster, n: number) => [...c.nodes.values()].every((node) => node.swim.liveCount() === n);

for (const seed of seeds(3)) {
  test(`seed ${seed}: 50 nodes joining through one introducer all know each other within 20 periods`, () =>
    withSeed(seed, async () => {
      const c = await startCluster(seed, 50);
      const took = await waitFor(c, 20 * T, () => allKnowAll(c, 50));
      assert.ok(took !== undefined, `not every node knew all 50 after 20 periods: ${[...c.nodes.values()].map((x) => x.swim.liveCount())}`);
      const members = c.nodes.get(c.liveIds()[7]!)!.swim.members();
      assert.equal(members.length, 50);
      assert.ok(members.every((m) => m.state === "alive" && m.incarnation === 0));
    }));

  test(`seed ${seed}: every survivor of 50 marks a crashed node dead within 20 s, and nobody else`, () =>
    withSeed(seed, async () => {
      const c = await startCluster(seed, 50);
      await waitFor(c, 20 * T, () => allKnowAll(c, 50));
      const deaths = recordDeaths(c);
      const victim = c.liveIds()[13]!;
      await c.crash(victim);
      const took = await waitFor(c, 20_000, () => [...c.viewsOf(victim).values()].every((s) => s === "dead"));
      assert.ok(took !== undefined, `after 20 s: ${[...c.viewsOf(victim).values()].join(",")}`);
      assert.ok(took >= 2 * 1000, "not before a probe, ping-req and the minimum suspicion could have happened");
      assert.deepEqual(deaths.filter((d) => d.id !== victim), [], "no false positives");
    }));
}

/** After a crash among 50: how long from the first survivor marking it dead to the last. */
async function deathSpread(seed: number, gossipIntervalMs: number): Promise<number> {
  const c = await startCluster(seed, 50, 0, { gossipIntervalMs });
  await waitFor(c, 20 * T, () => allKnowAll(c, 50));
  const deaths = recordDeaths(c);
  const victim = c.liveIds()[13]!;
  await c.crash(victim);
  const took = await waitFor(c, 30_000, () => [...c.viewsOf(victim).values()].every((s) => s === "dead"));
  assert.ok(took !== undefined, `after 30 s: ${[...c.viewsOf(victim).values()].join(",")}`);
  assert.deepEqual(deaths.filter((d) => d.id !== victim), [], "no false positives");
  const at = deaths.map((d) => d.at);
  return Math.max(...at) - Math.min(...at);
}

test("gossip rounds carry a death to every survivor of 50 within a second of the first; riding on probes alone takes longer", async () => {
  for (const seed of seeds(3)) {
    await withSeed(seed, async () => {
      const spread = await deathSpread(seed, 200);
      assert.ok(spread <= 1000, `spread ${spread} ms with gossip rounds`);
      // The control: the same run with rounds turned off.
      const probesOnly = await deathSpread(seed, 0);
      assert.ok(probesOnly > 1000, `spread ${probesOnly} ms riding on probes alone`);
    });
  }
});

test("10% message loss for 10 minutes among 50 nodes: no member is ever declared dead", async () => {
  // Seed 500: a suspecter missed every copy of a refutation, and its last ping to the member
  // was lost; it declared the member dead until its last check also asked helpers (probe.ts).
  for (const seed of seeds(1, 500)) {
    await withSeed(seed, async () => {
      const c = await startCluster(seed, 50, 0);
      await waitFor(c, 20 * T, () => allKnowAll(c, 50));
      c.network.options.loss = 0.1;
      const deaths = recordDeaths(c);
      let suspicions = 0;
      for (const node of c.nodes.values()) node.swim.onChange((m) => void (m.state === "suspect" && suspicions++));
      await c.run(10 * 60 * T);
      assert.deepEqual(deaths, []);
      // The loss is real: it did cause suspicions, which were refuted in time.
      assert.ok(suspicions > 0, "loss caused no suspicion at all: the test would prove nothing");
      assert.ok(allKnowAll(c, 50));
    });
  }
});

test("a slow node (every message delayed past the ping timeout) gets no healthy member declared dead", async () => {
  for (const seed of seeds(1, 21)) {
    await withSeed(seed, async () => {
      const c = await startCluster(seed, 20);
      await waitFor(c, 20 * T, () => allKnowAll(c, 20));
      const slow = c.liveIds()[4]!;
      const deaths = recordDeaths(c);
      c.network.slow(slow, 600); // 1.2 s+ round trips: past the 0.5 s ping timeout and the 1 s period
      await c.run(5 * 60 * T);
      const wrong = deaths.filter((d) => d.id !== slow);
      assert.deepEqual(wrong, [], "healthy members declared dead");
      assert.ok(c.nodes.get(slow)!.swim.awarenessScore > 0, "the slow node knows it is the unhealthy one");
    });
  }
});

test("a ping to a suspect carries its suspicion, so it can refute after the gossip has died down", async () => {
  // Lifeguard's buddy system. 8 members: news of a suspicion rides on 4 messages per node,
  // all sent within a period or two, while the suspicion lasts at least 3.8 s. A member
  // back 2 s after it was first suspected would otherwise hear of it only by chance. No
  // push-pull: a full-state exchange is another such chance, and when it comes first the
  // member refutes before any suspecter pings it, and the test would show nothing.
  for (const seed of seeds(5, 31)) {
    await withSeed(seed, async () => {
      const c = await startCluster(seed, 8, 0, { pushPullIntervalMs: 0 });
      await waitFor(c, 20 * T, () => allKnowAll(c, 8));
      const paused = c.liveIds()[3]!;
      const node = c.nodes.get(paused)!;
      const pings: Array<{ from: string; toldSuspect: boolean; senderSuspects: boolean }> = [];
      const carrier = overFrames(node);
      c.network.attach(paused, async (path, body) => {
        if (path === "/_swim/ping" && !c.network.isDown(paused)) {
          const message = decodeMessage(readLabel(body).body);
          if (message.type === "ping") {
            const senderSuspects = c.nodes.get(message.from)!.swim.members().find((m) => m.id === paused)?.state === "suspect";
            pings.push({ from: message.from, senderSuspects, toldSuspect: message.updates.some((u) => u.id === paused && u.state === "suspect") });
          }
        }
        return carrier(path, body);
      });
      let suspectedAt: number | undefined;
      for (const [observer, other] of c.nodes) {
        if (observer !== paused) other.swim.onChange((m) => void (m.id === paused && m.state === "suspect" && (suspectedAt ??= c.clock.now())));
      }
      c.network.down(paused);
      assert.ok(await waitFor(c, 10 * T, () => suspectedAt !== undefined, 10) !== undefined, "never suspected: the test would prove nothing");
      await c.run(2000);
      c.network.up(paused);
      await waitFor(c, 10 * T, () => pings.some((p) => p.senderSuspects), 10);
      const fromSuspecters = pings.filter((p) => p.senderSuspects);
      assert.ok(fromSuspecters.length > 0, "no suspecter pinged it: the test would prove nothing");
      assert.deepEqual(fromSuspecters.filter((p) => !p.toldSuspect), [], "a suspecter's ping did not carry the suspicion");
    });
  }
});

test("messages sent per member per period stay flat as N grows from 10 to 200", async () => {
  const perNodePerPeriod: number[] = [];
  for (const n of [10, 50, 200]) {
    const c = await startCluster(5, n);
    await waitFor(c, 60 * T, () => allKnowAll(c, n), 500);
    await c.run(5 * T);
    const before = [...c.network.sent.values()].reduce((a, b) => a + b, 0);
    await c.run(30 * T);
    const sent = [...c.network.sent.values()].reduce((a, b) => a + b, 0) - before;
    perNodePerPeriod.push(sent / n / 30);
    for (const id of c.liveIds()) await c.nodes.get(id)!.stop();
  }
  const [small, , large] = perNodePerPeriod as [number, number, number];
  for (const rate of perNodePerPeriod) assert.ok(rate >= 0.9 && rate <= 1.5, `rate ${rate} per node per period`);
  assert.ok(large / small < 1.25, `grew from ${small} to ${large}`);
});

test("a member that leaves is marked left everywhere within a few periods, never dead", async () => {
  const c = await startCluster(31, 20);
  await waitFor(c, 20 * T, () => allKnowAll(c, 20));
  const deaths = recordDeaths(c);
  const leaver = c.liveIds()[3]!;
  await Promise.all([c.nodes.get(leaver)!.leave(), c.run(2 * T)]);
  c.network.down(leaver);
  const took = await waitFor(c, 10 * T, () => [...c.viewsOf(leaver).values()].every((s) => s === "left"));
  assert.ok(took !== undefined, [...c.viewsOf(leaver).values()].join(","));
  assert.deepEqual(deaths.filter((d) => d.state === "dead"), []);
});

test("a member gone past --reap-after-ms is listed and sent nowhere, and a stale full state naming it alive does not revive it", async () => {
  const reapAfterMs = 30_000;
  const c = await startCluster(61, 8, 0, { reapAfterMs, pushPullIntervalMs: 5_000 });
  await waitFor(c, 20 * T, () => allKnowAll(c, 8));
  const [first, second, leaver, crashed, ...rest] = c.liveIds() as [string, string, string, string, ...string[]];
  const survivors = [first, second, ...rest].map((id) => c.nodes.get(id)!);
  const stale = [leaver, crashed].map((id) => ({ id, state: "alive" as const, incarnation: c.nodes.get(id)!.swim.incarnation, from: id }));
  await Promise.all([c.nodes.get(leaver)!.leave(), c.run(2 * T)]);
  c.network.down(leaver);
  await c.crash(crashed);
  const listing = (id: string) => survivors.map((n) => n.swim.members().find((m) => m.id === id)?.state ?? "not listed");
  const gone = await waitFor(c, 30 * T, () => listing(leaver).every((s) => s === "left") && listing(crashed).every((s) => s === "dead"));
  assert.ok(gone !== undefined, `${listing(leaver)} / ${listing(crashed)}`);

  await c.run(reapAfterMs);
  assert.deepEqual(new Set([...listing(leaver), ...listing(crashed)]), new Set(["not listed"]));
  // A lagging node's full state, naming both alive at the incarnations they had before.
  const sync = encodeMessage({ type: "sync", from: second, incarnation: survivors[1]!.swim.incarnation, epoch: 0, join: false, members: stale });
  const reply = await overFrames(survivors[0]!)("/_swim/sync", labelled(sync));
  const answer = decodeMessage(unlabelled(reply.body));
  assert.ok(answer.type === "sync" && answer.members.length === survivors.length, "the answer's full state names the reaped");
  await c.run(10 * T);
  assert.deepEqual(new Set([...listing(leaver), ...listing(crashed)]), new Set(["not listed"]), "a reaped member came back");
  assert.deepEqual(survivors.map((n) => n.swim.member(crashed)?.state), survivors.map(() => "dead"), "the tombstone is kept");
});

test("after a partition heals, the two halves merge back into one cluster", async () => {
  const c = simCluster({ seed: 41, config: { pushPullIntervalMs: 5_000 } });
  for (let i = 0; i < 12; i++) c.add();
  await waitFor(c, 20 * T, () => allKnowAll(c, 12));
  const ids = c.liveIds();
  c.network.partition(ids.slice(0, 6), ids.slice(6));
  const split = await waitFor(c, 120 * T, () => allKnowAll(c, 6), 500);
  assert.ok(split !== undefined, "each half saw the other die");
  c.network.heal();
  const healed = await waitFor(c, 120 * T, () => allKnowAll(c, 12), 500);
  assert.ok(healed !== undefined, `still split: ${[...c.nodes.values()].map((n) => n.swim.liveCount())}`);
});

test("the same seed replays the same run, event for event", async () => {
  async function trace(seed: number): Promise<string[]> {
    const c = await startCluster(seed, 15, 0.05);
    const events: string[] = [];
    for (const [observer, node] of c.nodes) {
      node.swim.onChange((m, was) => events.push(`${c.clock.now()} ${observer} ${m.id} ${was}->${m.state}/${m.incarnation}`));
    }
    await c.run(10 * T);
    await c.crash(c.liveIds()[2]!);
    await c.run(30 * T);
    return events;
  }
  const a = await trace(77);
  const b = await trace(77);
  assert.ok(a.length > 10, `only ${a.length} events`);
  assert.deepEqual(a, b);
  assert.notDeepEqual(await trace(78), a, "a different seed is a different run");
});

test("a crashed node restarted at the same address rejoins above its old incarnation", async () => {
  const c = await startCluster(51, 12);
  await waitFor(c, 20 * T, () => allKnowAll(c, 12));
  const id = c.liveIds()[6]!;
  await c.crash(id);
  await waitFor(c, 30 * T, () => [...c.viewsOf(id).values()].every((s) => s === "dead"));
  const reborn = c.restart(id);
  assert.equal(reborn.swim.incarnation, 0, "a new process remembers nothing");
  const took = await waitFor(c, 20 * T, () => allKnowAll(c, 12));
  assert.ok(took !== undefined, [...c.viewsOf(id).values()].join(","));
  assert.ok(reborn.swim.incarnation > 0, "it announced itself above the incarnation it was declared dead at");
  for (const node of c.nodes.values()) {
    const m = node.swim.members().find((x) => x.id === id)!;
    assert.equal(m.state, "alive");
    assert.equal(m.incarnation, reborn.swim.incarnation);
  }
});

test("ownership is not liveness: a dead member keeps its ranges for the removal delay, then one agreed epoch removes it everywhere", async () => {
  const c = await startCluster(61, 20);
  await waitFor(c, 20 * T, () => allKnowAll(c, 20));
  assert.ok((await formRing(c, 20)) !== undefined, "the ring formed");
  const agreed = () => new Set([...c.nodes.values()].map((n) => `${n.topology.epoch} ${stateChecksum(n.topology.state)}`));
  assert.equal(agreed().size, 1);
  assert.equal([...c.nodes.values()][0]!.ring.size, 20);
  const victim = c.liveIds()[9]!;
  await c.crash(victim);
  await waitFor(c, 30 * T, () => [...c.viewsOf(victim).values()].every((s) => s === "dead"));
  for (const node of c.nodes.values()) assert.ok(node.ring.has(victim), "declared dead, still an owner");
  await c.run(1_000); // half the default removal delay
  for (const node of c.nodes.values()) assert.ok(node.ring.has(victim), "still an owner within the removal delay");
  const took = await waitFor(c, 10 * T, () => ringFormed(c, 19));
  assert.ok(took !== undefined, "removed within 10 s of the removal delay");
  assert.equal(agreed().size, 1, "one epoch, one ring, on every node");
  for (const node of c.nodes.values()) assert.ok(!node.ring.has(victim));
});
