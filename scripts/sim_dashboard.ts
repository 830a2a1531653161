/**
 * A simulated cluster served over real HTTP, for looking at the dashboard at sizes a laptop
 * cannot run as processes:
 *
 *   npx tsx scripts/sim_dashboard.ts [nodes=100] [port=8400] [--crash-after-s 60]
 *
 * N nodes run in this one process on the simulator's network (lib/sim/), their virtual
 * clock kept in step with the wall clock; node 0's `fetch` is served on 127.0.0.1:port, so
 * http://127.0.0.1:port/ is its dashboard. With --crash-after-s, one node crashes then.
 */
import { loadAdapter } from "../adapters/mod.ts";
import { SimCluster } from "../lib/sim/cluster.ts";

const args = process.argv.slice(2);
const flag = args.indexOf("--crash-after-s");
const crashAfterS = flag >= 0 ? Number(args.splice(flag, 2)[1]) : undefined;
const count = Number(args[0] ?? 100);
const port = Number(args[1] ?? 8400);
if (!(count >= 1 && count <= 2000) || !(port > 0 && port < 65536)) {
  console.error("usage: sim_dashboard.ts [nodes 1-2000] [port] [--crash-after-s S]");
  process.exit(2);
}

const c = new SimCluster({ seed: 1, settle: () => new Promise((r) => setImmediate(r)) });
for (let i = 0; i < count; i++) {
  c.add();
  if (i % 10 === 9) await c.run(100);
}
const first = c.nodes.get(SimCluster.id(0))!;
const adapter = await loadAdapter();
await adapter.serve((request) => first.fetch(request), { hostname: "127.0.0.1", port });
console.log(`${count} simulated nodes; the dashboard of ${first.id} is at http://127.0.0.1:${port}/`);

const started = Date.now();
let crashed = false;
// Virtual time advances 50 ms per 50 ms of wall time (slower if the simulation cannot keep up).
for (;;) {
  const wall = Date.now();
  await c.run(50);
  if (crashAfterS !== undefined && !crashed && wall - started >= crashAfterS * 1000) {
    crashed = true;
    const victim = c.liveIds()[Math.floor(count / 2)]!;
    await c.crash(victim);
    console.log(`crashed ${victim}`);
  }
  const spent = Date.now() - wall;
  if (spent < 50) await new Promise((r) => setTimeout(r, 50 - spent));
}
