/**
 * Failure detection against the theory, as a table and a picture. For each cluster size it
 * runs what `mod.ts simulate` runs (the real node code on the simulator: N nodes join at
 * 1% loss, converge, then one crashes) and sets beside the measurements what SWIM,
 * Lifeguard and memberlist's own formulas predict with their default settings.
 *
 *   npx tsx bench/theory.ts [sizes=10,100,1000,2000] [seeds=5]
 *   node --max-old-space-size=16000 --import tsx bench/theory.ts    (2,000 nodes need the heap)
 *
 * Seeds apply to sizes up to 100 (the median is reported); larger sizes run seed 1 only.
 * Writes docs/detection-vs-theory.svg and prints the table docs/benchmarks.md shows, and
 * the measured rows as JSON on stderr: `THEORY_ROWS=rows.json npx tsx bench/theory.ts`
 * draws those again without running anything.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { runExperiment } from "../lib/sim/experiment.ts";
import { lineChart } from "./svg_chart.ts";

const sizes = (process.argv[2] ?? "10,100,1000,2000").split(",").map(Number);
const seedCount = Number(process.argv[3] ?? 5);
const T = 1; // protocol period, s (ours and memberlist's LAN default)

/** SWIM: the dead member is first probed, and found dead, after e/(e-1) periods on average. */
const swimFirst = () => (Math.E / (Math.E - 1)) * T;
/** Ours (Lifeguard): a suspicion confirmed by others times out after mult x log10(N+1) periods, then one last ping (0.5 s). */
const ourSuspicion = (n: number) => 4 * Math.log10(n + 1) * T + 0.5;
/** Our gossip rides each ping and its ack, one peer a period each way: push-pull, log3 N + ln ln N rounds (Karp et al. 2000). */
const ourSpread = (n: number) => (Math.log(n) / Math.log(3) + Math.log(Math.log(n))) * T;
/** memberlist: mult x max(1, log10 N) periods, confirmed. */
const mlSuspicion = (n: number) => 4 * Math.max(1, Math.log10(n)) * T;
/** memberlist: every 200 ms to 3 random members, push: log4 N + (ln N)/3 rounds (Frieze and Grimmett). */
const mlSpread = (n: number) => (Math.log(n) / Math.log(4) + Math.log(n) / 3) * 0.2;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

interface Measured { first: number; declared: number; all: number; spread: number; wallS: number }
interface Row extends Measured { n: number; seeds: number }

const saved = process.env.THEORY_ROWS;
const rows: Row[] = saved ? JSON.parse(readFileSync(saved, "utf8")) : [];
for (const n of saved ? [] : sizes) {
  const runs: Measured[] = [];
  for (let seed = 1; seed <= (n <= 100 ? seedCount : 1); seed++) {
    const started = performance.now();
    const r = await runExperiment(
      { nodes: n, seed, loss: 0.01, crash: 1, minDelayMs: 1, maxDelayMs: 5, joinSpreadMs: 1000, limitMs: 300_000, config: {} },
      { settle: () => new Promise<void>((resolve) => setImmediate(resolve)), wallMs: () => performance.now() },
    );
    const d = r.detection;
    if (d.firstMs === null || d.declaredMs === null || d.allMs === null) throw new Error(`N=${n} seed ${seed}: detection did not finish: ${JSON.stringify(r)}`);
    runs.push({ first: d.firstMs / 1000, declared: d.declaredMs / 1000, all: d.allMs / 1000, spread: (d.allMs - d.declaredMs) / 1000, wallS: (performance.now() - started) / 1000 });
    console.error(`N=${n} seed ${seed}: first ${d.firstMs} ms, declared ${d.declaredMs} ms, all ${d.allMs} ms (${Math.round(performance.now() - started)} ms of wall time)`);
  }
  const m = (k: keyof Measured) => median(runs.map((r) => r[k]));
  rows.push({ n, seeds: runs.length, first: m("first"), declared: m("declared"), all: m("all"), spread: m("spread"), wallS: m("wallS") });
}

const f = (x: number) => x.toFixed(1);
console.log("| N | seeds | first suspicion (SWIM e/(e-1) T) | declared dead | all survivors know (expected) | dissemination (expected) | memberlist, from its formulas: all know (dissemination) |");
console.log("|---|---|---|---|---|---|---|");
for (const r of rows) {
  const expectedAll = swimFirst() + ourSuspicion(r.n) + ourSpread(r.n);
  const ml = swimFirst() + mlSuspicion(r.n) + mlSpread(r.n);
  console.log(`| ${r.n.toLocaleString("en")} | ${r.seeds} | ${f(r.first)} s (${f(swimFirst())}) | ${f(r.declared)} s | ${f(r.all)} s (${f(expectedAll)}) | ${f(r.spread)} s (${f(ourSpread(r.n))}) | ${f(ml)} s (${f(mlSpread(r.n))}) |`);
}

const ns = rows.map((r) => r.n);
const svg = lineChart({
  title: "Crash detection at 1% loss: measured (simulator) against expectations",
  xLabel: "members (log scale)",
  yLabel: "seconds after the crash",
  xTicks: ns,
  series: [
    { name: "ours: all survivors know", color: "#1565c0", points: rows.map((r) => [r.n, r.all]) },
    { name: "expected (Lifeguard, ours)", color: "#1565c0", dashed: true, points: ns.map((n) => [n, swimFirst() + ourSuspicion(n) + ourSpread(n)]) },
    { name: "memberlist formulas", color: "#757575", dashed: true, points: ns.map((n) => [n, swimFirst() + mlSuspicion(n) + mlSpread(n)]) },
    { name: "ours: dissemination", color: "#2e7d32", points: rows.map((r) => [r.n, r.spread]) },
    { name: "expected dissemination", color: "#2e7d32", dashed: true, points: ns.map((n) => [n, ourSpread(n)]) },
    { name: "ours: first suspicion", color: "#c62828", points: rows.map((r) => [r.n, r.first]) },
    { name: "SWIM: e/(e-1) periods", color: "#c62828", dashed: true, points: ns.map((n) => [n, swimFirst()]) },
  ],
});
writeFileSync(new URL("../docs/detection-vs-theory.svg", import.meta.url), svg);
console.error(`wrote docs/detection-vs-theory.svg; the rows: ${JSON.stringify(rows)}`);
process.exit(0);
