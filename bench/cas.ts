/**
 * Conditional writes against plain PUTs on one 3-node cluster, same clients, same run:
 * latency (p50/p99) and throughput of (1) plain PUTs of distinct keys, (2) uncontended
 * compare-and-set (each client its own key: read its version once, then If-Match the
 * version each write answered), (3) eight clients contending on one counter (GET, then
 * If-Match), counting wins, 412s and 503s. Then a listing of every key in pages.
 *
 *   npx tsx bench/cas.ts [seconds=10] [runtime=bun] [-- node options]
 *   CLIENTS=1 npx tsx bench/cas.ts 5 bun      # one client: latency without queueing
 */
import { startCluster, type Runtime } from "../tests/support/processes.ts";

const argv = process.argv.slice(2);
const dash = argv.indexOf("--");
const positional = dash < 0 ? argv : argv.slice(0, dash);
const seconds = Number(positional[0] ?? 10);
const runtime = (positional[1] ?? "bun") as Runtime;
const extra = dash < 0 ? [] : argv.slice(dash + 1);
const CLIENTS = Number(process.env.CLIENTS ?? 8);

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? NaN;

async function phase(name: string, op: (client: number, i: number) => Promise<string>): Promise<void> {
  const latencies: number[] = [];
  const outcomes = new Map<string, number>();
  const until = Date.now() + seconds * 1000;
  await Promise.all(Array.from({ length: CLIENTS }, async (_, client) => {
    for (let i = 0; Date.now() < until; i++) {
      const started = performance.now();
      const outcome = await op(client, i);
      latencies.push(performance.now() - started);
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    }
  }));
  latencies.sort((a, b) => a - b);
  const rate = (latencies.length / seconds).toFixed(0);
  console.log(`${name.padEnd(34)} ${rate.padStart(7)}/s  p50 ${pct(latencies, 0.5).toFixed(2)} ms  p99 ${pct(latencies, 0.99).toFixed(2)} ms  ${JSON.stringify(Object.fromEntries(outcomes))}`);
}

const nodes = await startCluster([runtime, runtime, runtime], extra);
try {
  const via = (i: number) => nodes[i % nodes.length]!.url;
  console.log(`3 ${runtime} nodes, ${CLIENTS} clients, ${seconds} s per phase`);
  await phase("plain PUT (distinct keys)", async (c, i) => {
    const res = await fetch(`${via(i)}/d/plain-${c}-${i}`, { method: "PUT", body: "x".repeat(100) });
    await res.arrayBuffer();
    return String(res.status);
  });
  const versions = new Map<number, string>();
  await phase("CAS, uncontended (If-Match)", async (c, i) => {
    const headers: Record<string, string> = versions.has(c) ? { "if-match": `"${versions.get(c)}"` } : { "if-none-match": "*" };
    const res = await fetch(`${via(i)}/d/own-${c}`, { method: "PUT", body: String(i), headers });
    await res.arrayBuffer();
    if (res.status === 204) versions.set(c, res.headers.get("x-dht-version")!);
    return String(res.status);
  });
  await phase(`CAS, ${CLIENTS} contending on one counter`, async (_c, i) => {
    const got = await fetch(`${via(i)}/d/counter`);
    const text = await got.text();
    const headers: Record<string, string> = got.status === 200 ? { "if-match": `"${got.headers.get("x-dht-version")}"` } : { "if-none-match": "*" };
    const res = await fetch(`${via(i + 1)}/d/counter`, { method: "PUT", body: String((got.status === 200 ? Number(text) : 0) + 1), headers });
    await res.arrayBuffer();
    return String(res.status);
  });
  const started = performance.now();
  let listed = 0;
  let pages = 0;
  for (let after: string | null = null; ; pages++) {
    const page = await (await fetch(`${via(pages)}/d?prefix=plain-&limit=1000${after ? `&after=${encodeURIComponent(after)}` : ""}`)).json();
    listed += page.keys.length;
    after = page.next;
    if (!after) break;
  }
  console.log(`listing ${listed} keys in pages of 1000: ${pages + 1} pages, ${((performance.now() - started) / 1000).toFixed(2)} s`);
} finally {
  await Promise.all(nodes.map((n) => n.stop()));
}
