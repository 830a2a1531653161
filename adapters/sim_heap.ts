/**
 * The heap `mod.ts simulate` runs in. The simulator holds every node's tables in one heap
 * and makes short-lived garbage fast: with V8's default young generation (16 MiB
 * semi-spaces) the scavenger copies what survives over and over, and a larger one saves
 * much of that (figures in docs/benchmarks.md). N nodes also need about 1.5 MiB of heap
 * each, past Node's default limit near 2,500 nodes. V8 takes both only at start, so on Node
 * `simulate` runs itself again with them, unless the command line or NODE_OPTIONS set them
 * already. Bun and Deno run as they are.
 */
import process from "node:process";
import { detectRuntime } from "./mod.ts";

const SEMI_SPACE_MB = 64;
const HEAP_MB_PER_NODE = 2;
const HEAP_BASE_MB = 1024;
/** Set in the rerun, so it never reruns itself. */
const RERUN_ENV = "DHT_SIMULATE_RERUN";

/** The V8 flags a run of `nodes` wants beyond `given` (execArgv and NODE_OPTIONS), with Node's heap limit and the machine's memory. */
export function simulatorFlags(nodes: number, given: readonly string[], heapLimitMb: number, memoryMb: number): string[] {
  const has = (flag: string) => given.some((g) => g.replaceAll("_", "-").startsWith(flag));
  const flags: string[] = [];
  if (!has("--max-semi-space-size")) flags.push(`--max-semi-space-size=${SEMI_SPACE_MB}`);
  const wantedMb = Math.min(HEAP_BASE_MB + nodes * HEAP_MB_PER_NODE, Math.floor(memoryMb * 0.75));
  if (!has("--max-old-space-size") && wantedMb > heapLimitMb) flags.push(`--max-old-space-size=${wantedMb}`);
  return flags;
}

/** On Node, runs this command again with the flags it wants and exits with its code; returns when there is nothing to do. */
export async function rerunWithSimulatorHeap(nodes: number): Promise<void> {
  if (process.env[RERUN_ENV] || detectRuntime() !== "node") return;
  const [{ spawn }, { totalmem }, { getHeapStatistics }] = await Promise.all([import("node:child_process"), import("node:os"), import("node:v8")]);
  const given = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? "").split(/\s+/)];
  const flags = simulatorFlags(nodes, given, getHeapStatistics().heap_size_limit / 2 ** 20, totalmem() / 2 ** 20);
  if (flags.length === 0) return;
  const child = spawn(process.execPath, [...process.execArgv, ...flags, ...process.argv.slice(1)], {
    stdio: "inherit",
    env: { ...process.env, [RERUN_ENV]: "1" },
  });
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => child.kill(signal));
  const code = await new Promise<number>((resolve) => child.on("exit", (status, signal) => resolve(status ?? (signal ? 1 : 0))));
  process.exit(code);
}
