/** Simulation helpers shared by the sim tests: the settle step, seeds, and replay hints. */
import { SimCluster, type SimOptions } from "../../lib/sim/cluster.ts";

/** One turn of the macrotask queue: every pending promise job runs first. */
export const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

export function simCluster(options: Omit<SimOptions, "settle">): SimCluster {
  return new SimCluster({ ...options, settle });
}

/** `SEED=n` replays one run; otherwise `count` seeds from `first`. */
export function seeds(count: number, first = 1): number[] {
  const fixed = process.env.SEED;
  if (fixed !== undefined && fixed !== "") return [Number(fixed)];
  return Array.from({ length: count }, (_, i) => first + i);
}

/** Prefixes a failure with the seed that replays it. */
export async function withSeed<T>(seed: number, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof Error) err.message = `[replay with SEED=${seed}] ${err.message}`;
    throw err;
  }
}

/** A request to one simulated node, with virtual time running until it is answered. */
export function call(c: SimCluster, nodeId: string, line: string, body?: BodyInit): Promise<Response> {
  const space = line.indexOf(" ");
  const request = new Request(`http://${nodeId}${line.slice(space + 1)}`, { method: line.slice(0, space), body });
  return c.runUntil(c.nodes.get(nodeId)!.fetch(request), `${line} through ${nodeId}`);
}

/** Every running node holds the same stable epoch, whose ring has `n` members. */
export function ringFormed(c: SimCluster, n: number): boolean {
  const nodes = c.liveIds().map((id) => c.nodes.get(id)!);
  const epochs = new Set(nodes.map((node) => node.topology.epoch));
  return epochs.size === 1 && nodes.every((node) => node.topology.state.phase === "stable" && node.topology.state.members.length === n);
}

/** Runs virtual time until the ring has formed with `n` members (or `limitMs` passes); returns the time taken. */
export function formRing(c: SimCluster, n: number, limitMs = 60_000, stepMs = 100): Promise<number | undefined> {
  return waitFor(c, limitMs, () => ringFormed(c, n), stepMs);
}

/** Runs virtual time until `done()` holds; the virtual ms it took, or undefined past `limitMs`. */
export async function waitFor(c: SimCluster, limitMs: number, done: () => boolean, stepMs = 100): Promise<number | undefined> {
  const start = c.clock.now();
  while (c.clock.now() - start <= limitMs) {
    if (done()) return c.clock.now() - start;
    await c.run(stepMs);
  }
  return undefined;
}
