/**
 * Back to service within seconds of a heal, on real hosts: five nodes on Node, Bun and Deno,
 * each in its own network namespace. One host hears none of the others for 30 s (its inbound
 * packets from them dropped with nftables) while clients in a sixth namespace use all five;
 * the others declare it dead and take it off the ring. Once the link heals, every key
 * answers through every host within 5 s, the host is back on the ring soon after, and the
 * whole history is linearizable. Needs root, `ip` and `nft` (it says why when it skips).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { detectRuntime } from "../../adapters/mod.ts";
import type { Operation } from "../../lib/check/linearizability.ts";
import { assertLinearizable, onHosts, readEverywhere, runClients } from "../support/host_cluster.ts";
import { testbedUnavailable } from "../support/netns.ts";
import type { Runtime } from "../support/processes.ts";

const runtime = detectRuntime();
const unavailable = runtime === "node" ? testbedUnavailable() : "runs once, under the Node runner (the hosts mix all three runtimes)";
if (unavailable && runtime === "node") console.log(`# skipping the multi-host heal test: ${unavailable}`);

const RUNTIMES: Runtime[] = ["bun", "node", "deno", "bun", "node"];
const KEYS = Array.from({ length: 8 }, (_, i) => `key-${i}`);
const timings = ["--protocol-period-ms", "500", "--ping-timeout-ms", "250", "--removal-delay-ms", "1000"];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test("a host deaf to the others for 30 s: every key answers through every host within 5 s of the heal; linearizable", { skip: unavailable !== undefined, timeout: 180_000 }, () =>
  onHosts("dhh", "10.213.8", RUNTIMES, timings, async ({ bed, agent, urls }) => {
    const deaf = 3;
    const deafId = `${bed.addresses[deaf]}:7000`;
    let running = true;
    const clients = runClients(agent, urls, KEYS, 6, () => running);
    await sleep(2_000);
    bed.deafen(deaf);
    await sleep(30_000);
    const ring = await agent.json(`${urls[0]}/cluster/ring`) as { members: string[] };
    assert.ok(!ring.members.includes(deafId), "the others took it off the ring while it heard nothing");
    bed.heal();
    const reads: Operation[] = [];
    const tookMs = await readEverywhere(agent, urls, KEYS, reads, 5_000);
    console.log(`# every key answered through every host ${tookMs} ms after the heal`);
    running = false;
    const history = [...(await clients), ...reads];

    const deadline = Date.now() + 15_000;
    for (;;) {
      const rings = await Promise.all(urls.map((u) => agent.json(`${u}/cluster/ring`))) as Array<{ members: string[]; phase: string } | undefined>;
      if (rings.every((r) => r && r.phase === "stable" && r.members.includes(deafId))) break;
      assert.ok(Date.now() < deadline, `not back on every ring 15 s after the heal: ${JSON.stringify(rings.map((r) => r?.members.length))}`);
      await sleep(250);
    }
    assertLinearizable(history, "heal");
  }));
