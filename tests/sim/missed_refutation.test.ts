/**
 * A suspecter that missed every copy of a member's refutation, and cannot reach the member
 * itself, must not declare it dead. Gossip sends each update a few times only, so under
 * loss some node now and then misses all of them (10% loss among 50 nodes did it within two
 * minutes, SEED=500 of membership.test.ts). Here that is made certain: every message the
 * watcher receives has the member's own word stripped out, and the link between the two is
 * cut. What saves the member is its word as the helpers of a ping-req pass it on in their
 * ack (member.ts `wordOf`), during the watcher's probes and during its last check before
 * declaring a death, which asks helpers as well as pinging (probe.ts `lastChance`).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Config } from "../../lib/config.ts";
import { overFrames, type SimCluster } from "../../lib/sim/cluster.ts";
import { decodeMessage, encodeMessage, type Update } from "../../lib/wire/swim.ts";
import { simCluster, waitFor } from "../support/sim.ts";
import { labelled, unlabelled } from "../support/label.ts";

const T = 1000;

/** Every SWIM message `to` receives from now on, requests and the replies to its own, without the updates `drop` picks. */
function muffle(c: SimCluster, to: string, drop: (u: Update) => boolean): void {
  const strip = (bytes: Uint8Array): Uint8Array => {
    const m = decodeMessage(unlabelled(bytes));
    if (m.type === "sync") throw new Error("a full-state exchange: these tests turn push-pull off");
    return labelled(encodeMessage({ ...m, updates: m.updates.filter((u) => !drop(u)) }));
  };
  for (const [id, node] of c.nodes) {
    const carrier = overFrames(node);
    c.network.attach(id, async (path, body) => {
      if (!path.startsWith("/_swim/")) return carrier(path, body);
      if (id === to) return carrier(path, strip(body));
      const reply = await carrier(path, body);
      if (reply.status !== 200 || decodeMessage(unlabelled(body)).from !== to) return reply;
      return { status: reply.status, body: strip(reply.body) };
    });
  }
}

/**
 * Eight members; `watcher` is cut off from `member` and hears nothing the member says of
 * itself. Another member suspects `member`, which refutes; the run goes on for 40 s.
 */
async function missedRefutation(seed: number, config: Partial<Config>) {
  const c = simCluster({ seed, network: { loss: 0 }, config: { pushPullIntervalMs: 0, ...config } });
  for (let i = 0; i < 8; i++) c.add();
  await waitFor(c, 20 * T, () => [...c.nodes.values()].every((n) => n.swim.liveCount() === 8));
  const [, member, watcher, accuser] = c.liveIds() as [string, string, string, string];
  muffle(c, watcher, (u) => u.id === member && u.from === member);
  c.network.cut([watcher], [member]);
  const deaths: string[] = [];
  let watcherSuspected = false;
  for (const [observer, node] of c.nodes) {
    node.swim.onChange((m) => {
      if (m.id === member && m.state === "dead") deaths.push(observer);
      if (m.id === member && m.state === "suspect" && observer === watcher) watcherSuspected = true;
    });
  }
  const accused = c.nodes.get(accuser)!.swim;
  accused.apply({ id: member, state: "suspect", incarnation: accused.member(member)!.incarnation, from: accuser });
  await c.run(40 * T);
  const incarnation = c.nodes.get(member)!.swim.incarnation;
  const watched = c.nodes.get(watcher)!.swim;
  return { deaths, watcherSuspected, incarnation, seen: watched.member(member), events: watched.events.of(member) };
}

test("a suspecter that missed the refutation and cannot reach the member learns it from a probe's helpers", async () => {
  const run = await missedRefutation(61, {});
  assert.ok(run.watcherSuspected && run.incarnation > 0, "the watcher suspected the member, which refuted: the test would prove nothing otherwise");
  assert.deepEqual(run.deaths, []);
  assert.deepEqual([run.seen?.state, run.seen?.incarnation], ["alive", run.incarnation]);
});

test("a suspicion that runs out before the next probe is spared by the last check's helpers", async () => {
  // mult 2: no confirmations expected, so the suspicion runs out at its minimum (1.9 s with
  // 8 members), well before the watcher's round-robin comes back to the member.
  const run = await missedRefutation(64, { suspicionMult: 2 });
  assert.ok(run.watcherSuspected && run.incarnation > 0, "the watcher suspected the member, which refuted: the test would prove nothing otherwise");
  assert.ok(run.events.some((e) => e.event === "last ping"), "the suspicion ran out: the last check is what the test is about");
  assert.deepEqual(run.deaths, []);
  assert.deepEqual([run.seen?.state, run.seen?.incarnation], ["alive", run.incarnation]);
});
