/**
 * `mod.ts simulate`'s experiment with every fault at once on a small cluster: each phase
 * finishes, nobody untouched by a fault is declared dead, and the same seed gives the same
 * figures.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { type ExperimentOptions, runExperiment } from "../../lib/sim/experiment.ts";
import { settle } from "../support/sim.ts";

const options: ExperimentOptions = {
  nodes: 12, seed: 5, loss: 0.01, crash: 2, minDelayMs: 1, maxDelayMs: 5, joinSpreadMs: 1000, limitMs: 120_000,
  config: {},
  faults: { lossy: { members: 1, loss: 0.8 }, slow: { members: 2, delayMs: 100 }, partition: { members: 2, forMs: 15_000 }, rejoinAfterMs: 3_000 },
};
const hooks = { settle, wallMs: () => 0 };

test("simulate: lossy and slow members, a partition, crashes and a rejoin: every phase finishes, no false positive, deterministic", async () => {
  const seen: string[] = [];
  const first = await runExperiment(options, { ...hooks, progress: (p) => seen.push(p.phase) });
  for (const [what, ms] of Object.entries({ join: first.joinConvergedMs, ring: first.ringConvergedMs, heal: first.partitionHealedMs, detection: first.detection.allMs, removal: first.detection.removedMs, rejoin: first.rejoinConvergedMs })) {
    assert.equal(typeof ms, "number", `${what} finished: ${JSON.stringify(first)}`);
  }
  assert.equal(first.falsePositives, 0);
  // The lossy member is no reason to suspect anyone healthy, and once declared dead it stays so.
  assert.equal(first.healthySuspected, 0);
  assert.equal(first.lossyRevived, 0);
  assert.equal(typeof first.partitionDeclaredDead, "number");
  assert.ok(first.detection.firstMs! <= first.detection.allMs! && first.detection.allMs! <= first.detection.removedMs!);
  assert.ok(first.distinctRingSizes >= 1 && first.distinctRingSizes <= first.epochs);
  assert.ok(first.messagesPerMemberPerPeriod > 0 && first.bytesPerMemberPerPeriod > 0);
  assert.deepEqual([...new Set(seen)], ["joining", "quiet", "partitioned", "healing", "detecting", "rejoining"]);
  assert.deepEqual(await runExperiment(options, hooks), first, "the same seed, the same figures");
});
