/**
 * What an experiment watches while it runs (experiment.ts): every member's verdicts on the
 * others (false positives, healthy members suspected, lossy members taken back), and
 * whether the members' views and rings have converged.
 */
import type { ExperimentHooks, ExperimentOptions, Progress } from "./experiment.ts";
import type { SimCluster } from "./cluster.ts";

/** How often an experiment looks at the cluster, virtual ms. */
export const TICK_MS = 250;

export interface Run {
  c: SimCluster;
  o: ExperimentOptions;
  hooks: ExperimentHooks;
  started: number;
  wallStart: number;
  lossy: Set<string>;
  /** Members a fault may rightly get declared dead: the lossy and the cut off. */
  faulty: Set<string>;
  crashed: Set<string>;
  restarted: Set<string>;
  wrongDeaths: Set<string>;
  partitionDeaths: Set<string>;
  healthySuspected: Set<string>;
  lossyRevived: number;
  /** From the cut until the cluster has converged again. */
  partitioned: boolean;
  sizes: Set<number>;
  ringSizes: Set<number>;
}

export function watch(run: Run, id: string): void {
  run.c.nodes.get(id)!.swim.onChange((m, was) => {
    if (run.lossy.has(m.id) && was === "dead" && !run.faulty.has(id)) run.lossyRevived++;
    const healthy = !run.faulty.has(m.id) && !run.crashed.has(m.id) && !run.restarted.has(m.id);
    if (m.state === "suspect" && healthy && !run.partitioned) run.healthySuspected.add(m.id);
    // A member once crashed is left out even after it restarts: a late word of its old death is no mistake.
    if (m.state !== "dead" || run.crashed.has(m.id) || run.restarted.has(m.id)) return;
    // While cut off, and until converged again after the heal, each side's verdicts on the other spread: the partition's doing.
    (run.partitioned ? run.partitionDeaths : run.wrongDeaths).add(m.id);
  });
}

/** Whether the cluster has converged: every member no fault touched lists the same number alive, at least every such member; the same for the rings. */
export function convergence(run: Run) {
  const live = run.c.liveIds().map((id) => run.c.nodes.get(id)!);
  const steady = live.filter((n) => !run.lossy.has(n.id));
  const views = steady.map((n) => n.swim.liveCount());
  const rings = steady.map((n) => n.topology.state);
  const members = views.length > 0 && views.every((v) => v === views[0] && v >= steady.length);
  const ring = rings.length > 0 && rings.every((r) => r.epoch === rings[0]!.epoch && r.phase === "stable" && r.members.length >= steady.length);
  return { members, ring, views, rings, converged: views.filter((v) => v >= steady.length).length, ringed: rings.filter((r) => r.members.length >= steady.length).length };
}

export function report(run: Run, phase: Progress["phase"], seen = convergence(run)): void {
  run.hooks.progress?.({ phase, virtualMs: run.c.clock.now() - run.started, wallMs: run.hooks.wallMs() - run.wallStart, converged: seen.converged, ringed: seen.ringed });
}

/** Runs until the cluster has converged again, from now; the virtual ms it took (null: not within the limit). */
export async function reconverge(run: Run, phase: Progress["phase"]): Promise<number | null> {
  const from = run.c.clock.now();
  while (run.c.clock.now() - from < run.o.limitMs) {
    await run.c.run(TICK_MS);
    const seen = convergence(run);
    report(run, phase, seen);
    if (seen.members && seen.ring) return run.c.clock.now() - from;
  }
  return null;
}
