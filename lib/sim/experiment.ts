/**
 * One experiment on the simulator, as `mod.ts simulate` runs it: N real nodes on a virtual
 * clock start within `joinSpreadMs`, all through the first. Once they have converged (every
 * member lists the others alive, every ring holds them, at one epoch) the cluster runs quiet
 * for ten protocol periods to settle (the push-pulls a crowd's joining started run out), then
 * ten more, in which what it sends is counted; then, as asked, a partition cuts some
 * members off and heals, `crash` members are killed and the survivors watched until each has
 * declared each crashed member dead, and the crashed start again. Members may be lossy or
 * slow from the start. Deterministic from the seed; the wall clock and the turn of the event
 * loop are the caller's (lib/ has neither).
 */
import type { Config } from "../config.ts";
import { seededRandom, shuffle } from "../env.ts";
import { SimCluster } from "./cluster.ts";

export interface Faults {
  /** Members (never the first) every message of which is lost with `loss`, from the start. */
  lossy?: { members: number; loss: number };
  /** Members every message of which takes `delayMs` longer each way, from the start. */
  slow?: { members: number; delayMs: number };
  /** Once converged: `members` cut off from the rest for `forMs`, then healed. */
  partition?: { members: number; forMs: number };
  /** The crashed members start again (new processes, same addresses) this long after the crash. */
  rejoinAfterMs?: number;
}

export interface ExperimentOptions {
  nodes: number;
  seed: number;
  /** Probability that any one message is lost. */
  loss: number;
  /** Members killed once the cluster has converged. */
  crash: number;
  minDelayMs: number;
  maxDelayMs: number;
  /** Nodes start evenly over this much virtual time. */
  joinSpreadMs: number;
  /** Virtual time each phase may take before it is reported as not reached. */
  limitMs: number;
  /** Node options, as on a real node's command line. */
  config: Partial<Config>;
  faults?: Faults;
}

export interface ExperimentResult {
  nodes: number;
  seed: number;
  /** Virtual ms from the first start until every member lists the others alive (null: not within the limit). */
  joinConvergedMs: number | null;
  /** Virtual ms from the first start until every member's ring holds them all, stable, at one epoch. */
  ringConvergedMs: number | null;
  /** The ring's epoch then: how many changes it took. */
  epochs: number;
  /** Distinct membership sizes members' SWIM tables reported until they converged (Rapid's measure; 1 is ideal). */
  distinctViews: number;
  /** Distinct sizes of the agreed ring members held until it converged: the membership the cluster acts on. */
  distinctRingSizes: number;
  /** From the crash: first suspicion, first death declared, every survivor holding every crashed member dead, every survivor's ring without them. */
  detection: { firstMs: number | null; declaredMs: number | null; allMs: number | null; removedMs: number | null };
  /** Members neither crashed, lossy nor cut off that some member declared dead, outside a partition. */
  falsePositives: number;
  /** Lossy members some member declared dead (removing them is allowed, if every member agrees). */
  lossyDeclaredDead: number;
  /** Members no fault touched that some member suspected, outside a partition (Rapid's lossy test: none). */
  healthySuspected: number;
  /** Times a member no fault touched took a lossy member back after holding it dead: the view flapping. */
  lossyRevived: number;
  /** Virtual ms from the heal until the cluster converged again (absent: no partition asked). */
  partitionHealedMs?: number | null;
  /** Members declared dead from the cut until converged again: each side's verdicts on the other, which the members refute. */
  partitionDeclaredDead?: number;
  /** Virtual ms from the restart of the crashed members until the cluster converged again. */
  rejoinConvergedMs?: number | null;
  messagesPerMemberPerPeriod: number;
  bytesPerMemberPerPeriod: number;
  virtualMs: number;
  wallMs: number;
}

export interface Progress {
  phase: "joining" | "quiet" | "partitioned" | "healing" | "detecting" | "rejoining";
  virtualMs: number;
  wallMs: number;
  /** Members listing every other alive. */
  converged: number;
  /** Members whose ring holds every member. */
  ringed: number;
}

export interface ExperimentHooks {
  settle: () => Promise<void>;
  wallMs: () => number;
  progress?: (p: Progress) => void;
}

const TICK_MS = 250;
const QUIET_PERIODS = 10;

/** What the phases share: the cluster, who is faulty or crashed, and what was seen. */
interface Run {
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

export async function runExperiment(o: ExperimentOptions, hooks: ExperimentHooks): Promise<ExperimentResult> {
  const c = new SimCluster({ seed: o.seed, settle: hooks.settle, network: { loss: o.loss, minDelayMs: o.minDelayMs, maxDelayMs: o.maxDelayMs }, config: o.config });
  const picked = pickMembers(o);
  const run: Run = { c, o, hooks, started: c.clock.now(), wallStart: hooks.wallMs(), lossy: new Set(picked.lossy), faulty: new Set([...picked.lossy, ...picked.partitioned]), crashed: new Set(), restarted: new Set(), wrongDeaths: new Set(), partitionDeaths: new Set(), healthySuspected: new Set(), lossyRevived: 0, partitioned: false, sizes: new Set(), ringSizes: new Set() };
  for (const id of picked.lossy) c.network.lossy(id, o.faults!.lossy!.loss);
  for (const id of picked.slow) c.network.slow(id, o.faults!.slow!.delayMs);

  const { joinConvergedMs, ringConvergedMs } = await joinPhase(run);
  const epochs = c.nodes.get(SimCluster.id(0))!.topology.epoch;
  const load = await quietPhase(run);
  const result: ExperimentResult = {
    nodes: o.nodes, seed: o.seed, joinConvergedMs, ringConvergedMs, epochs, distinctViews: run.sizes.size, distinctRingSizes: run.ringSizes.size,
    detection: { firstMs: null, declaredMs: null, allMs: null, removedMs: null }, falsePositives: 0, lossyDeclaredDead: 0, healthySuspected: 0, lossyRevived: 0, ...load, virtualMs: 0, wallMs: 0,
  };
  if (o.faults?.partition) {
    result.partitionHealedMs = await partitionPhase(run, picked.partitioned, o.faults.partition.forMs);
    result.partitionDeclaredDead = run.partitionDeaths.size;
  }
  result.detection = await crashPhase(run, picked.crashed);
  if (o.faults?.rejoinAfterMs !== undefined && picked.crashed.length > 0) result.rejoinConvergedMs = await rejoinPhase(run, o.faults.rejoinAfterMs);
  for (const id of c.liveIds()) await c.nodes.get(id)!.stop();
  result.falsePositives = [...run.wrongDeaths].filter((id) => !run.faulty.has(id)).length;
  result.lossyDeclaredDead = [...run.wrongDeaths].filter((id) => run.lossy.has(id)).length;
  [result.healthySuspected, result.lossyRevived] = [run.healthySuspected.size, run.lossyRevived];
  result.virtualMs = c.clock.now() - run.started;
  result.wallMs = Math.round(hooks.wallMs() - run.wallStart);
  return result;
}

/** The members each fault touches, drawn from the seed, never the first and never one twice. */
function pickMembers(o: ExperimentOptions) {
  const random = seededRandom(o.seed * 31 + 7);
  const order = shuffle(random, Array.from({ length: o.nodes - 1 }, (_, i) => i + 1));
  const take = (n = 0) => order.splice(0, Math.min(n, order.length)).map((i) => SimCluster.id(i));
  return { lossy: take(o.faults?.lossy?.members), slow: take(o.faults?.slow?.members), partitioned: take(o.faults?.partition?.members), crashed: take(o.crash) };
}

function watch(run: Run, id: string): void {
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
function convergence(run: Run) {
  const live = run.c.liveIds().map((id) => run.c.nodes.get(id)!);
  const steady = live.filter((n) => !run.lossy.has(n.id));
  const views = steady.map((n) => n.swim.liveCount());
  const rings = steady.map((n) => n.topology.state);
  const members = views.length > 0 && views.every((v) => v === views[0] && v >= steady.length);
  const ring = rings.length > 0 && rings.every((r) => r.epoch === rings[0]!.epoch && r.phase === "stable" && r.members.length >= steady.length);
  return { members, ring, views, rings, converged: views.filter((v) => v >= steady.length).length, ringed: rings.filter((r) => r.members.length >= steady.length).length };
}

function report(run: Run, phase: Progress["phase"], seen = convergence(run)): void {
  run.hooks.progress?.({ phase, virtualMs: run.c.clock.now() - run.started, wallMs: run.hooks.wallMs() - run.wallStart, converged: seen.converged, ringed: seen.ringed });
}

async function joinPhase(run: Run): Promise<{ joinConvergedMs: number | null; ringConvergedMs: number | null }> {
  const { c, o } = run;
  const perTick = Math.max(1, Math.ceil(o.nodes / Math.max(1, o.joinSpreadMs / TICK_MS)));
  let joinConvergedMs: number | null = null;
  let ringConvergedMs: number | null = null;
  while (c.clock.now() - run.started < o.limitMs && (joinConvergedMs === null || ringConvergedMs === null)) {
    for (let i = 0; i < perTick && c.nodes.size < o.nodes; i++) watch(run, c.add().id);
    await c.run(TICK_MS);
    const seen = convergence(run);
    const all = c.nodes.size === o.nodes;
    if (joinConvergedMs === null) for (const v of seen.views) run.sizes.add(v);
    if (ringConvergedMs === null) for (const r of seen.rings) if (r.epoch > 0) run.ringSizes.add(r.members.length);
    if (all && seen.members && joinConvergedMs === null) joinConvergedMs = c.clock.now() - run.started;
    if (all && seen.ring && ringConvergedMs === null) ringConvergedMs = c.clock.now() - run.started;
    report(run, "joining", seen);
  }
  return { joinConvergedMs, ringConvergedMs };
}

/** What a converged cluster sends, per member and protocol period. */
async function quietPhase(run: Run): Promise<{ messagesPerMemberPerPeriod: number; bytesPerMemberPerPeriod: number }> {
  const { c, o } = run;
  const period = o.config.protocolPeriodMs ?? 1000;
  const count = () => [sum(c.network.sent.values()), sum(c.network.sentBytes.values())] as const;
  await c.run(QUIET_PERIODS * period);
  const [messages, bytes] = count();
  const from = c.clock.now();
  await c.run(QUIET_PERIODS * period);
  const [messagesAfter, bytesAfter] = count();
  const periods = (c.clock.now() - from) / period;
  report(run, "quiet");
  return {
    messagesPerMemberPerPeriod: Math.round(((messagesAfter - messages) / o.nodes / periods) * 100) / 100,
    bytesPerMemberPerPeriod: Math.round((bytesAfter - bytes) / o.nodes / periods),
  };
}

/** Runs until the cluster has converged again, from now; the virtual ms it took (null: not within the limit). */
async function reconverge(run: Run, phase: Progress["phase"]): Promise<number | null> {
  const from = run.c.clock.now();
  while (run.c.clock.now() - from < run.o.limitMs) {
    await run.c.run(TICK_MS);
    const seen = convergence(run);
    report(run, phase, seen);
    if (seen.members && seen.ring) return run.c.clock.now() - from;
  }
  return null;
}

async function partitionPhase(run: Run, cut: string[], forMs: number): Promise<number | null> {
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
 * ring is without them.
 */
async function crashPhase(run: Run, ids: string[]): Promise<ExperimentResult["detection"]> {
  const { c } = run;
  for (const id of ids) run.crashed.add(id);
  for (const id of ids) await c.crash(id);
  const from = c.clock.now();
  const detection: ExperimentResult["detection"] = { firstMs: null, declaredMs: null, allMs: null, removedMs: null };
  const gone = new Set(ids);
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
    if (detection.allMs !== null && !survivors.some(held)) return { ...detection, removedMs: at };
    if (at % 1000 < TICK_MS / 5) report(run, "detecting");
  }
  return detection;
}

async function rejoinPhase(run: Run, afterMs: number): Promise<number | null> {
  await run.c.run(afterMs);
  for (const id of run.crashed) {
    run.restarted.add(id);
    watch(run, run.c.restart(id).id);
  }
  run.crashed.clear();
  return reconverge(run, "rejoining");
}

function sum(xs: Iterable<number>): number {
  let total = 0;
  for (const x of xs) total += x;
  return total;
}
