/**
 * Partitions between real hosts: five nodes on Node, Bun and Deno, each in its own network
 * namespace at its own address (--host/--advertise), one bridge between them, links cut
 * with nftables. Clients in a sixth namespace, which sees every host throughout, read,
 * write and delete through all five while the network is cut 2|3, healed, then cut 1|4;
 * the recorded history must be linearizable, and every acknowledged write readable through
 * every host after the heal. Needs root, `ip` and `nft` (it says why when it skips); the
 * addresses exist only inside the namespaces it builds, and it removes them when done.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { detectRuntime } from "../../adapters/mod.ts";
import { assertLinearizable, onHosts, readEverywhere, runClients } from "../support/host_cluster.ts";
import { testbedUnavailable } from "../support/netns.ts";
import type { Runtime } from "../support/processes.ts";

const runtime = detectRuntime();
const unavailable = runtime === "node" ? testbedUnavailable() : "runs once, under the Node runner (the hosts mix all three runtimes)";
if (unavailable && runtime === "node") console.log(`# skipping the multi-host partition test: ${unavailable}`);

const RUNTIMES: Runtime[] = ["node", "bun", "deno", "node", "bun"];
const KEYS = Array.from({ length: 8 }, (_, i) => `key-${i}`);
const CLIENTS = 8;
const timings = ["--protocol-period-ms", "500", "--ping-timeout-ms", "250", "--removal-delay-ms", "1000"];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test("five real hosts cut 2|3 then 1|4 while clients use all of them: linearizable, nothing acknowledged lost", { skip: unavailable !== undefined, timeout: 240_000 }, () =>
  onHosts("dht", "10.213.7", RUNTIMES, timings, async ({ bed, agent, urls }) => {
    const began = Date.now();
    const phases: Array<[number, () => void, string]> = [
      [3_000, () => bed.cut([0, 1], [2, 3, 4]), "cut 2|3"],
      [18_000, () => bed.heal(), "heal"],
      [26_000, () => bed.cut([4], [0, 1, 2, 3]), "cut 1|4"],
      [41_000, () => bed.heal(), "heal"],
    ];
    const faults = (async () => {
      for (const [when, act] of phases) {
        await sleep(Math.max(0, began + when - Date.now()));
        act();
      }
    })();
    const [history] = await Promise.all([runClients(agent, urls, KEYS, CLIENTS, () => Date.now() - began < 49_000), faults]);

    // After the heal: every key through every host answers, and the answers join the history.
    await readEverywhere(agent, urls, KEYS, history, 30_000);
    const acknowledged = history.filter((op) => op.kind !== "get" && op.ret !== undefined).length;
    assert.ok(acknowledged > 100, `only ${acknowledged} writes acknowledged`);
    assertLinearizable(history, "partition");
  }));
