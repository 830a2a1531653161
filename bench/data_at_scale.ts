/**
 * The data plane at scale, in the simulator: N nodes (default 100) at 1% loss hold a set of
 * keys while clients on many nodes read and write a few hot keys, and the cluster goes
 * through rolling crashes (each crashed node starts again, empty, a while later), members
 * joining, and a partition that cuts a group off and heals. At the end: is the history of
 * the hot keys linearizable, and does every key still read as its last acknowledged write?
 *
 *   npx tsx bench/data_at_scale.ts [nodes=100] [seed=1]
 *
 * Prints one JSON object: the figures, and `ok` (exit code 1 when not).
 */
import { checkHistory, type Operation } from "../lib/check/linearizability.ts";
import { seededRandom } from "../lib/env.ts";
import { SimCluster } from "../lib/sim/cluster.ts";

const nodes = Number(process.argv[2] ?? 100);
const seed = Number(process.argv[3] ?? 1);
const KEYS = 500;
const HOT = ["h0", "h1", "h2", "h3"];
const CLIENTS = 8;

const started = performance.now();
const c = new SimCluster({ seed, settle: () => new Promise<void>((r) => setImmediate(r)), network: { loss: 0.01, minDelayMs: 1, maxDelayMs: 5 } });
const random = seededRandom(seed * 7 + 1);
const pick = <T>(xs: readonly T[]) => xs[Math.floor(random.next() * xs.length)]!;
const until = async (limitMs: number, done: () => boolean) => {
  for (const end = c.clock.now() + limitMs; c.clock.now() < end && !done(); ) await c.run(250);
  return done();
};
const ringHolds = (n: number) => {
  const live = c.liveIds().filter((id) => !c.network.isDown(id)).map((id) => c.nodes.get(id)!);
  return new Set(live.map((x) => x.topology.epoch)).size === 1 && live.every((x) => x.topology.state.phase === "stable" && x.topology.state.members.length === n);
};
const fetchOn = (id: string, path: string, init?: RequestInit) => c.nodes.get(id)!.fetch(new Request(`http://${id}${path}`, init));

for (let i = 0; i < nodes; i++) {
  c.add();
  if (i % 10 === 9) await c.run(100);
}
const formed = await until(120_000, () => ringHolds(nodes));

// The keys, each written once through a random node; what was acknowledged is what must last.
const acknowledged = new Map<string, string>();
let refused = 0;
for (let k = 0; k < KEYS; k++) {
  const key = `k${k}`;
  const res = await c.runUntil(fetchOn(pick(c.liveIds()), `/d/${key}`, { method: "PUT", body: `v${k}` }), "load", 30_000);
  if (res.status === 204) acknowledged.set(key, `v${k}`);
  else refused++;
}

// Clients on random live nodes, on a few hot keys, until the faults are over.
const history: Operation[] = [];
let stop = false;
const client = async (n: number) => {
  for (let i = 0; !stop; i++) {
    const live = c.liveIds().filter((id) => !c.network.isDown(id));
    const node = c.nodes.get(pick(live))!;
    const key = pick(HOT);
    const call = c.clock.now();
    const url = `http://${node.id}/d/${key}`;
    const roll = random.next();
    if (roll < 0.5) {
      const value = `c${n}-${i}`;
      const res = await node.fetch(new Request(url, { method: "PUT", body: value }));
      history.push({ kind: "put", key, value, call, ret: res.status === 204 ? c.clock.now() : undefined });
    } else {
      const res = await node.fetch(new Request(url));
      if (res.status === 200) history.push({ kind: "get", key, value: await res.text(), call, ret: c.clock.now() });
      else if (res.status === 404) history.push({ kind: "get", key, value: null, call, ret: c.clock.now() });
    }
    await new Promise<void>((resolve) => c.clock.setTimeout(resolve, 200 + random.next() * 300));
  }
};
const clients = Array.from({ length: CLIENTS }, (_, n) => client(n));

const events: string[] = [];
const t0 = c.clock.now();
const note = (what: string) => events.push(`${Math.round((c.clock.now() - t0) / 1000)} s: ${what}`);
// Rolling crashes: one member at a time, started again (empty) 10 s later, 40 s apart.
for (let round = 0; round < 3; round++) {
  const victim = pick(c.liveIds().slice(1));
  await c.crash(victim);
  note(`crashed ${victim}`);
  await c.run(10_000);
  c.restart(victim);
  note(`restarted ${victim}`);
  await c.run(30_000);
}
// Joins: five new members.
for (let i = 0; i < 5; i++) c.add();
note("5 joined");
await until(60_000, () => ringHolds(nodes + 5));
// A partition: a tenth of the members cut off for 20 s, then healed.
const cut = c.liveIds().slice(-Math.floor(nodes / 10));
c.network.partition(cut);
note(`cut off ${cut.length}`);
await c.run(20_000);
c.network.heal();
note("healed");
const settled = await until(120_000, () => ringHolds(nodes + 5));
stop = true;
await c.runUntil(Promise.all(clients), "the clients' last operations", 60_000);

// Every key reads as its last acknowledged write, through a random node.
let lost = 0;
let unavailable = 0;
for (const [key, value] of acknowledged) {
  // A 503 is the moment's answer (a lost reply at 1% loss): tried again, as a client would.
  let res = await c.runUntil(fetchOn(pick(c.liveIds()), `/d/${key}`), "read back", 30_000);
  for (let tries = 1; res.status === 503 && tries < 3; tries++) {
    await c.run(500);
    res = await c.runUntil(fetchOn(pick(c.liveIds()), `/d/${key}`), "read back", 30_000);
  }
  const body = await res.text();
  if (res.status === 404 || (res.status === 200 && body !== value)) lost++;
  else if (res.status !== 200) unavailable++;
  if (res.status !== 200 || body !== value) console.error("read back", key, res.status, body);
}
const checked = checkHistory(history);
const result = {
  nodes, seed, formed, settled, keys: KEYS, refused, lost, unavailable,
  operations: history.length, acknowledgedOperations: history.filter((op) => op.ret !== undefined).length,
  linearizable: checked.ok, events, virtualS: Math.round((c.clock.now() - t0) / 1000), wallS: Math.round((performance.now() - started) / 1000),
};
if (!settled) {
  // What the ring looks like where it did not settle: epochs, phases, sizes, and who is missing.
  const live = c.liveIds().filter((id) => !c.network.isDown(id)).map((id) => c.nodes.get(id)!);
  const shapes = new Map<string, number>();
  for (const x of live) {
    const key = `epoch ${x.topology.epoch} ${x.topology.state.phase} ${x.topology.state.members.length} members`;
    shapes.set(key, (shapes.get(key) ?? 0) + 1);
  }
  const inRing = new Set(live[0]!.topology.state.members.map((m) => m.id));
  const missing = live.filter((x) => !inRing.has(x.id)).map((x) => `${x.id}: ${[...new Set(live.map((o) => o.swim.member(x.id)?.state))].join("/")}, held ${x.swim.own.held?.state ?? "-"}`);
  console.error(JSON.stringify({ shapes: [...shapes], missing }, null, 1));
  const first = live.find((x) => !inRing.has(x.id))!;
  console.error(first.id, "isMember", first.topology.isMember, "epoch", first.topology.epoch, JSON.stringify(live[0]!.swim.events.of(first.id).slice(-12)));
  console.error("own view of itself", JSON.stringify(first.swim.events.of(first.id).slice(-8)));
}
const ok = formed && settled && lost === 0 && unavailable === 0 && checked.ok;
console.log(JSON.stringify({ ok, ...result }));
process.exit(ok ? 0 : 1);
