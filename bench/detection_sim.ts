/**
 * Failure detection in the simulator: N real nodes on a virtual clock join one by one, then
 * one crashes. Reports, per seed and as median/max: how long after the last join every node
 * knew every other, the time to the first suspicion and to every survivor marking the
 * crashed node dead, false positives, and messages sent per node per protocol period.
 *
 *   npx tsx bench/detection_sim.ts [nodes=100] [seeds=5] [loss=0]
 */
import { SimCluster } from "../lib/sim/cluster.ts";

const nodes = Number(process.argv[2] ?? 100);
const seedCount = Number(process.argv[3] ?? 5);
const loss = Number(process.argv[4] ?? 0);
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));
const period = 1000;

interface Run {
  seed: number;
  joinMs: number;
  firstMs: number;
  allMs: number;
  falsePositives: number;
  msgsPerNodePeriod: number;
  wallMs: number;
}

async function once(seed: number): Promise<Run> {
  const started = performance.now();
  const c = new SimCluster({ seed, settle, network: { loss } });
  const wrongDeaths = new Set<string>();
  let victim = "";
  const watch = (observer: string) =>
    c.nodes.get(observer)!.swim.onChange((m) => {
      if (m.state === "dead" && m.id !== victim) wrongDeaths.add(`${observer} saw ${m.id}`);
    });
  // Join in batches: all through the first node, as a launcher would start them.
  for (let i = 0; i < nodes; i++) {
    const node = c.add();
    watch(node.id);
    if (i % 10 === 9) await c.run(100);
  }
  const lastJoin = c.clock.now();
  let joinMs = -1;
  for (let t = 0; t < 120_000 && joinMs < 0; t += 250) {
    await c.run(250);
    if ([...c.nodes.values()].every((n) => n.swim.liveCount() === nodes)) joinMs = c.clock.now() - lastJoin;
  }
  await c.run(5 * period);

  const sentBefore = [...c.network.sent.values()].reduce((a, b) => a + b, 0);
  const quietStart = c.clock.now();
  await c.run(20 * period);
  const sentQuiet = [...c.network.sent.values()].reduce((a, b) => a + b, 0) - sentBefore;
  const msgsPerNodePeriod = sentQuiet / nodes / ((c.clock.now() - quietStart) / period);

  victim = SimCluster.id(Math.floor(nodes / 3));
  await c.crash(victim);
  const crashedAt = c.clock.now();
  let firstMs = -1;
  let allMs = -1;
  for (let t = 0; t < 300_000 && allMs < 0; t += 100) {
    await c.run(100);
    const views = [...c.viewsOf(victim).values()];
    if (firstMs < 0 && views.some((v) => v === "suspect" || v === "dead")) firstMs = c.clock.now() - crashedAt;
    if (views.every((v) => v === "dead")) allMs = c.clock.now() - crashedAt;
  }
  for (const id of c.liveIds()) await c.nodes.get(id)!.stop();
  return { seed, joinMs, firstMs, allMs, falsePositives: wrongDeaths.size, msgsPerNodePeriod, wallMs: performance.now() - started };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
const runs: Run[] = [];
for (let seed = 1; seed <= seedCount; seed++) {
  const r = await once(seed);
  runs.push(r);
  console.log(
    `seed ${seed}: join ${r.joinMs} ms, first suspicion ${r.firstMs} ms, all dead ${r.allMs} ms, ` +
      `false positives ${r.falsePositives}, ${r.msgsPerNodePeriod.toFixed(2)} msgs/node/period (${Math.round(r.wallMs)} ms wall)`,
  );
}
const col = (f: (r: Run) => number) => `median ${median(runs.map(f))} / max ${Math.max(...runs.map(f))}`;
console.log(`\n${nodes} nodes, ${seedCount} seeds, loss ${loss}, period ${period} ms`);
console.log(`first suspicion (ms): ${col((r) => r.firstMs)}`);
console.log(`all survivors mark dead (ms): ${col((r) => r.allMs)}`);
console.log(`join converged after last join (ms): ${col((r) => r.joinMs)}`);
console.log(`false positives: ${runs.reduce((a, r) => a + r.falsePositives, 0)}`);
