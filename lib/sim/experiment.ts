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
import { crashPhase, partitionPhase, rejoinPhase } from "./fault_phases.ts";
import { convergence, report, type Run, TICK_MS, watch } from "./watch.ts";

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
  /**
   * What taking the crashed members off the ring cost, from the crash until every ring was
   * without them: epochs decided, Paxos messages (prepare and accept), the driver's polls
   * and tellings (status); and spreadMs, from the first ring without them to every one.
   */
  removal: { epochs: number; paxosMessages: number; statusMessages: number; spreadMs: number | null };
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
  /** Virtual ms the driver's change of owners that took them back in took: its first epoch to its stable one. */
  rejoinTransitionMs?: number | null;
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

const QUIET_PERIODS = 10;

/** What the phases share: the cluster, who is faulty or crashed, and what was seen. */
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
    detection: { firstMs: null, declaredMs: null, allMs: null, removedMs: null }, removal: { epochs: 0, paxosMessages: 0, statusMessages: 0, spreadMs: null }, falsePositives: 0, lossyDeclaredDead: 0, healthySuspected: 0, lossyRevived: 0, ...load, virtualMs: 0, wallMs: 0,
  };
  if (o.faults?.partition) {
    result.partitionHealedMs = await partitionPhase(run, picked.partitioned, o.faults.partition.forMs);
    result.partitionDeclaredDead = run.partitionDeaths.size;
  }
  const ringBefore = ringTraffic(run);
  const { detection, spreadMs } = await crashPhase(run, picked.crashed);
  const ringAfter = ringTraffic(run);
  result.detection = detection;
  result.removal = { epochs: ringAfter.epoch - ringBefore.epoch, paxosMessages: ringAfter.paxos - ringBefore.paxos, statusMessages: ringAfter.status - ringBefore.status, spreadMs };
  if (o.faults?.rejoinAfterMs !== undefined && picked.crashed.length > 0) Object.assign(result, await rejoinPhase(run, o.faults.rejoinAfterMs));
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

/** The first member's epoch, and the ring messages sent so far. */
function ringTraffic(run: Run): { epoch: number; paxos: number; status: number } {
  const count = (path: string) => run.c.network.sentByPath.get(path) ?? 0;
  return { epoch: run.c.nodes.get(SimCluster.id(0))!.topology.epoch, paxos: count("/_ring/prepare") + count("/_ring/accept"), status: count("/_ring/status") };
}

function sum(xs: Iterable<number>): number {
  let total = 0;
  for (const x of xs) total += x;
  return total;
}
