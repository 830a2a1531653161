/**
 * The cost of a quorum GET through our own code, with no sockets: three nodes in one
 * process, each peer message handed straight to the receiving node's `fetch` (as the
 * simulator does, without its delays). Against a lone node's GET on the same runtime, it
 * tells how much of a cluster GET's time is coordination (batching, msgpack, quorum logic,
 * the replica's handler) rather than HTTP.
 *
 *   npx tsx bench/cluster_path.ts    bun run bench/cluster_path.ts    deno run -A bench/cluster_path.ts
 */
import { detectRuntime } from "../adapters/mod.ts";
import { defaultConfig } from "../lib/config.ts";
import { realClock, realRandom, type Transport } from "../lib/env.ts";
import { silentLogger } from "../lib/log.ts";
import { createNode, type DhtNode } from "../lib/node.ts";

const nodes = new Map<string, DhtNode>();
const direct: Transport = {
  async send(peer, path, body) {
    const node = nodes.get(peer);
    if (!node) throw new Error(`no node ${peer}`);
    const res = await node.fetch(new Request(`http://${peer}${path}`, { method: "POST", body: body as Uint8Array<ArrayBuffer> }));
    return { status: res.status, body: new Uint8Array(await res.arrayBuffer()) };
  },
  close: async () => {},
};
const env = { clock: realClock, random: realRandom, transport: direct, log: silentLogger };
// The nodes' timers do not keep a process alive (they must not delay a node's exit), and
// in-process messages hold no socket: this does, until the end.
const keepAlive = setInterval(() => {}, 1_000);
for (const port of [8000, 8001, 8002]) {
  const node = createNode(defaultConfig({ port, introducers: port === 8000 ? [] : ["127.0.0.1:8000"], protocolPeriodMs: 200 }), env);
  nodes.set(node.id, node);
  node.start();
}
const [a] = [...nodes.values()];
for (let i = 0; i < 100 && a!.ring.size < 3; i++) await new Promise((r) => setTimeout(r, 100));
const lone = createNode(defaultConfig({ port: 9000 }), { ...env, transport: direct });

const url = (node: DhtNode) => `http://${node.id}/d/bench`;
for (const node of [a!, lone]) await node.fetch(new Request(url(node), { method: "PUT", body: "v".repeat(100) }));

async function rate(f: () => unknown, n = 50_000, width = 32): Promise<number> {
  const run = async (count: number) => {
    let next = 0;
    await Promise.all(Array.from({ length: width }, async () => {
      while (next++ < count) await f();
    }));
  };
  await run(n / 5);
  const t = performance.now();
  await run(n);
  return Math.round(n / ((performance.now() - t) / 1000));
}

const loneRate = await rate(() => lone.fetch(new Request(url(lone))));
const clusterRate = await rate(() => a!.fetch(new Request(url(a!))));
console.log(`runtime: ${detectRuntime()}, ring of ${a!.ring.size}, 32 requests at a time`);
console.log(`lone node GET             ${String(loneRate).padStart(8)} /s  ${(1e6 / loneRate).toFixed(1)} µs each`);
console.log(`3-node quorum GET (R=2)   ${String(clusterRate).padStart(8)} /s  ${(1e6 / clusterRate).toFixed(1)} µs each, all three nodes' work`);
for (const node of [...nodes.values(), lone]) await node.stop();
clearInterval(keepAlive);
