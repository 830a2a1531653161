/**
 * A crowd of 200 nodes starting within a second through one introducer, at 1% loss: SWIM
 * tables and the agreed ring converge in seconds, with joiners gathered into one change
 * of owners, and once converged a member sends what it does in a small cluster: a ping
 * and its ack a period, the full-state exchanges the crowd started run out. Taking a
 * crashed member off the ring asks the council, not every member, to vote.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { runExperiment } from "../../lib/sim/experiment.ts";
import { COUNCIL_SIZE } from "../../lib/topology/council.ts";
import { settle } from "../support/sim.ts";

test("200 nodes joining at once: members in 12 s, the ring in 12 s with one change of owners, a crash removed in 30 s by the council's votes and spread in 0.5 s, quiet after", async () => {
  const r = await runExperiment(
    { nodes: 200, seed: 3, loss: 0.01, crash: 1, minDelayMs: 1, maxDelayMs: 5, joinSpreadMs: 1000, limitMs: 60_000, config: {} },
    { settle, wallMs: () => 0 },
  );
  const figures = JSON.stringify(r);
  assert.ok(r.joinConvergedMs !== null && r.joinConvergedMs <= 12_000, `every member lists all 200 alive within 12 s: ${figures}`);
  assert.ok(r.ringConvergedMs !== null && r.ringConvergedMs <= 12_000, `the ring holds all 200 within 12 s: ${figures}`);
  // Founding (1), then one change of owners (3 epochs): the joiners came in together.
  assert.ok(r.epochs <= 4 && r.distinctRingSizes <= 2, `joiners gathered into one change: ${figures}`);
  assert.ok(r.detection.allMs !== null && r.detection.allMs <= 20_000, `every survivor sees the crash within 20 s: ${figures}`);
  assert.ok(r.detection.removedMs !== null && r.detection.removedMs <= 30_000, `and every ring is without it within 30 s: ${figures}`);
  // Each epoch's Paxos asks the council (25), not all 200: a proposal, and perhaps one lost ballot's retry.
  assert.ok(r.removal.epochs >= 3 && r.removal.paxosMessages <= r.removal.epochs * 4 * COUNCIL_SIZE, `removing it asked the council, not everyone: ${figures}`);
  // The decision reaches the members nobody told by notices passed on at once, not by a SWIM probe per hop.
  assert.ok(r.removal.spreadMs !== null && r.removal.spreadMs <= 500, `every ring without it within 0.5 s of the first: ${figures}`);
  assert.equal(r.falsePositives, 0);
  assert.ok(r.messagesPerMemberPerPeriod <= 1.2 && r.bytesPerMemberPerPeriod <= 400, `quiet once converged: ${figures}`);
});
