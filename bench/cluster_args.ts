/**
 * What the cluster benchmarks share: `[keys] [runtime] [-- node options]` on the command
 * line, running many requests a few at a time, whether a tool to compare with is installed,
 * and the median of rounds.
 */
import { spawnSync } from "node:child_process";
import type { Runtime } from "../tests/support/processes.ts";

export function clusterArgs(argv = process.argv.slice(2)): { keys: number; runtime: Runtime; extra: string[] } {
  const dash = argv.indexOf("--");
  const positional = dash < 0 ? argv : argv.slice(0, dash);
  return { keys: Number(positional[0] ?? 10_000), runtime: (positional[1] ?? "bun") as Runtime, extra: dash < 0 ? [] : argv.slice(dash + 1) };
}

/** Runs `work(0..count-1)`, `width` at a time. */
export async function pool(count: number, width: number, work: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < count) await work(next++);
  }));
}

/** Whether a command is on the PATH (a bench skips, saying so, without the tool it compares with). */
export const installed = (tool: string): boolean => spawnSync("sh", ["-c", `command -v ${tool}`]).status === 0;

/** The middle value (the lower of the two middles for an even count). */
export const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;

/** Each named counter of /metrics (unlabelled), summed over the nodes at `urls`. */
export async function summedMetrics<N extends string>(urls: readonly string[], names: readonly N[]): Promise<Record<N, number>> {
  const sums = Object.fromEntries(names.map((name) => [name, 0])) as Record<N, number>;
  for (const url of urls) {
    const text = await (await fetch(`${url}/metrics`)).text();
    for (const name of names) sums[name] += Number(new RegExp(`^${name} (\\S+)$`, "m").exec(text)?.[1] ?? 0);
  }
  return sums;
}
