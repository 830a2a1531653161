/**
 * The hop the owner-aware client saves: the same load through `dht-node/client`, once
 * sending each request to one of the key's owners and once to any member (what a plain
 * HTTP client behind a load balancer does), against one cluster of real nodes. With N = 3 of
 * 6 members, half the requests of the plain client land on a node that holds no copy.
 * Rounds alternate, so drift on a shared machine falls on both alike.
 *
 *   npx tsx bench/client_hop.ts [nodes=6] [runtime=bun] [seconds=5] [width=32]
 *   bun run bench/client_hop.ts ...      (the client on Bun: its fetch costs the load less)
 */
import { detectRuntime } from "../adapters/mod.ts";
import { connect, type Client } from "../client/mod.ts";
import { type Runtime, startCluster } from "../tests/support/processes.ts";

const [nodeCount, runtime, seconds, width] = [Number(process.argv[2] ?? 6), (process.argv[3] ?? "bun") as Runtime, Number(process.argv[4] ?? 5), Number(process.argv[5] ?? 32)];
const KEYS = 2_000;
const VALUE = "v".repeat(100);

interface Round {
  ops: number;
  latencies: number[];
  seconds: number;
}

/** `width` callers, each calling `op` on random keys for `seconds`. */
async function load(op: (key: string) => Promise<unknown>): Promise<Round> {
  const latencies: number[] = [];
  const start = performance.now();
  const until = start + seconds * 1000;
  await Promise.all(Array.from({ length: width }, async () => {
    while (performance.now() < until) {
      const t = performance.now();
      await op(`key:${Math.floor(Math.random() * KEYS)}`);
      latencies.push(performance.now() - t);
    }
  }));
  return { ops: latencies.length, latencies, seconds: (performance.now() - start) / 1000 };
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;

function row(name: string, rounds: Round[]): string {
  const all = rounds.flatMap((r) => r.latencies).sort((a, b) => a - b);
  const rate = rounds.reduce((s, r) => s + r.ops, 0) / rounds.reduce((s, r) => s + r.seconds, 0);
  return `${name.padEnd(28)} ${String(Math.round(rate)).padStart(8)}/s   p50 ${pct(all, 0.5).toFixed(2)} ms   p99 ${pct(all, 0.99).toFixed(2)} ms`;
}

const nodes = await startCluster(Array.from({ length: nodeCount }, () => runtime));
try {
  const seeds = nodes.map((n) => `127.0.0.1:${n.port}`);
  const clients: Record<"owners" | "any", Client> = { owners: await connect(seeds), any: await connect(seeds, { ownerAware: false }) };
  for (let i = 0; i < KEYS; i++) await clients.owners.put(`key:${i}`, VALUE);
  const results = { owners: { get: [] as Round[], put: [] as Round[] }, any: { get: [] as Round[], put: [] as Round[] } };
  for (let round = 0; round < 3; round++) {
    for (const who of ["owners", "any"] as const) {
      results[who].get.push(await load((k) => clients[who].get(k)));
      results[who].put.push(await load((k) => clients[who].put(k, VALUE)));
    }
  }
  console.log(`${nodeCount} ${runtime} nodes (N=3), ${width} callers in one ${detectRuntime()} process, 3 rounds of ${seconds} s each, alternating`);
  for (const op of ["get", "put"] as const) {
    console.log(row(`${op.toUpperCase()} to an owner`, results.owners[op]));
    console.log(row(`${op.toUpperCase()} to any member`, results.any[op]));
  }
} finally {
  await Promise.all(nodes.map((n) => n.stop("SIGKILL")));
}
