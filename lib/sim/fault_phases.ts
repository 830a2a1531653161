/**
 * The faults an experiment injects once the cluster has converged (experiment.ts), each
 * timed until the cluster has recovered: a partition healed, members crashed, and the
 * crashed started again.
 */
import type { ExperimentResult } from "./experiment.ts";
import { SimCluster } from "./cluster.ts";
import { reconverge, report, type Run, TICK_MS, watch } from "./watch.ts";

export async function partitionPhase(run: Run, cut: string[], forMs: number): Promise<number | null> {
  run.partitioned = true;
  run.c.network.partition(cut);
  for (let t = 0; t < forMs; t += TICK_MS) {
    await run.c.run(TICK_MS);
    report(run, "partitioned");
  }
  run.c.network.heal();
  const healedMs = await reconverge(run, "healing");
  run.partitioned = false;
  return healedMs;
}

/**
 * Kills `ids`; how long until one survivor suspected one, until one declared one dead, until
 * every survivor (but the lossy) declared every one dead, and until every such survivor's
 * ring is without them; and how long that last took from the first ring without them (the
 * decision spreading).
 */
export async function crashPhase(run: Run, ids: string[]): Promise<{ detection: ExperimentResult["detection"]; spreadMs: number | null }> {
  const { c } = run;
  for (const id of ids) run.crashed.add(id);
  for (const id of ids) await c.crash(id);
  const from = c.clock.now();
  const detection: ExperimentResult["detection"] = { firstMs: null, declaredMs: null, allMs: null, removedMs: null };
  const gone = new Set(ids);
  let firstRemovedMs: number | null = null;
  while (ids.length > 0 && c.clock.now() - from < run.o.limitMs) {
    await c.run(TICK_MS / 5);
    const at = c.clock.now() - from;
    // A lossy member may never hear of a death: the survivors that count are the others.
    const survivors = c.liveIds().filter((id) => !run.lossy.has(id)).map((id) => c.nodes.get(id)!);
    if (detection.allMs === null) {
      const states = ids.flatMap((id) => survivors.map((n) => n.swim.table.get(id)?.state));
      if (detection.firstMs === null && states.some((s) => s === "suspect" || s === "dead")) detection.firstMs = at;
      if (detection.declaredMs === null && states.some((s) => s === "dead")) detection.declaredMs = at;
      if (states.every((s) => s === "dead")) detection.allMs = at;
    }
    const held = (n: (typeof survivors)[number]) => [...n.topology.state.members, ...n.topology.state.next].some((m) => gone.has(m.id));
    if (firstRemovedMs === null && !survivors.every(held)) firstRemovedMs = at;
    if (detection.allMs !== null && !survivors.some(held)) return { detection: { ...detection, removedMs: at }, spreadMs: at - firstRemovedMs! };
    if (at % 1000 < TICK_MS / 5) report(run, "detecting");
  }
  return { detection, spreadMs: null };
}

export async function rejoinPhase(run: Run, afterMs: number): Promise<Pick<ExperimentResult, "rejoinConvergedMs" | "rejoinTransitionMs">> {
  await run.c.run(afterMs);
  const driver = run.c.nodes.get(run.c.nodes.get(SimCluster.id(0))!.driver.driver()?.id ?? SimCluster.id(0))!;
  const transition: { from?: number; to?: number } = {};
  driver.topology.onChange((state) => {
    if (state.phase !== "stable") transition.from ??= run.c.clock.now();
    else if (transition.from !== undefined) transition.to ??= run.c.clock.now();
  });
  for (const id of run.crashed) {
    run.restarted.add(id);
    watch(run, run.c.restart(id).id);
  }
  run.crashed.clear();
  const rejoinConvergedMs = await reconverge(run, "rejoining");
  return { rejoinConvergedMs, rejoinTransitionMs: transition.to === undefined ? null : transition.to - transition.from! };
}
