/**
 * A cluster of real hosts on the network-namespace testbed (netns.ts), and clients that use
 * it from the client namespace through the agent, recording a history the linearizability
 * checker reads. Shared by the multi-host fault tests.
 */
import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import assert from "node:assert/strict";
import { checkHistory, type Operation } from "../../lib/check/linearizability.ts";
import { Agent, Testbed } from "./netns.ts";
import { type RunningNode, type Runtime, startNode } from "./processes.ts";

export const HOST_PORT = 7000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface Hosts {
  bed: Testbed;
  agent: Agent;
  nodes: RunningNode[];
  urls: string[];
}

/**
 * Builds a testbed of one host per runtime on `subnet` (namespaces named after `name`), a
 * node on each, all joined on one ring; runs `body`; and always takes it all down.
 */
export async function onHosts(name: string, subnet: string, runtimes: readonly Runtime[], options: string[], body: (hosts: Hosts) => Promise<void>): Promise<void> {
  const bed = new Testbed(`${name}${process.pid % 10_000}`, runtimes.length, subnet);
  const nodes: RunningNode[] = [];
  let agent: Agent | undefined;
  try {
    bed.build();
    agent = new Agent(bed);
    const started = await startHosts(bed, agent, runtimes, options);
    nodes.push(...started.nodes);
    await body({ bed, agent, nodes, urls: started.urls });
  } finally {
    agent?.stop();
    await Promise.all(nodes.map((n) => n.stop("SIGKILL")));
    bed.destroy();
  }
}

/** Starts a node of each runtime on its own host, all joining the first; resolves once one stable ring holds them all. */
export async function startHosts(bed: Testbed, agent: Agent, runtimes: readonly Runtime[], options: string[]): Promise<{ nodes: RunningNode[]; urls: string[] }> {
  const urls = bed.addresses.map((a) => `http://${a}:${HOST_PORT}`);
  const at = (i: number) => [...options, "--host", bed.addresses[i]!, "--advertise", `${bed.addresses[i]}:${HOST_PORT}`];
  const place = (i: number) => ({ port: HOST_PORT, host: bed.addresses[i], prefix: bed.prefixFor(bed.hosts[i]!) });
  const nodes = [await startNode(runtimes[0]!, at(0), {}, place(0))];
  nodes.push(...await Promise.all(runtimes.slice(1).map((rt, j) => startNode(rt, [`${bed.addresses[0]}:${HOST_PORT}`, ...at(j + 1)], {}, place(j + 1)))));
  const deadline = Date.now() + 60_000;
  for (;;) {
    const rings = await Promise.all(urls.map((u) => agent.json(`${u}/cluster/ring`))) as Array<{ epoch: number; phase: string; members: string[] } | undefined>;
    if (rings.every((r) => r && r.phase === "stable" && r.members.length === runtimes.length) && new Set(rings.map((r) => r!.epoch)).size === 1) break;
    assert.ok(Date.now() < deadline, `the ring did not form: ${JSON.stringify(rings)}`);
    await sleep(250);
  }
  return { nodes, urls };
}

/**
 * `clients` clients reading, writing and deleting `keys` through random hosts until
 * `running()` says stop; every operation recorded (a write without a 2xx/404 answer has an
 * unknown outcome, a read without one tells nothing).
 */
export async function runClients(agent: Agent, urls: readonly string[], keys: readonly string[], clients: number, running: () => boolean): Promise<Operation[]> {
  const history: Operation[] = [];
  let seq = 0;
  const client = async (n: number) => {
    while (running()) {
      const key = keys[Math.floor(Math.random() * keys.length)]!;
      const url = `${urls[Math.floor(Math.random() * urls.length)]}/d/${key}`;
      const roll = Math.random();
      const call = Date.now();
      if (roll < 0.45) {
        const value = `c${n}-${seq++}`;
        const res = await agent.request("PUT", url, value);
        history.push({ kind: "put", key, value, call, ret: res.status === 204 ? Date.now() : undefined });
      } else if (roll < 0.9) {
        const res = await agent.request("GET", url);
        const ret = Date.now();
        if (res.status === 200) history.push({ kind: "get", key, value: res.body, call, ret });
        else if (res.status === 404) history.push({ kind: "get", key, value: null, call, ret });
      } else {
        const res = await agent.request("DELETE", url);
        const ret = Date.now();
        if (res.status === 204) history.push({ kind: "delete", key, found: true, call, ret });
        else if (res.status === 404) history.push({ kind: "delete", key, found: false, call, ret });
        else history.push({ kind: "delete", key, call });
      }
      await sleep(50 + Math.random() * 100);
    }
  };
  await Promise.all(Array.from({ length: clients }, (_, n) => client(n)));
  return history;
}

/**
 * Reads every key through every host until each answers (200 or 404), adding the answers
 * to `history`; fails naming the host and key still unanswered after `limitMs`. Resolves to
 * how long the last one took.
 */
export async function readEverywhere(agent: Agent, urls: readonly string[], keys: readonly string[], history: Operation[], limitMs: number): Promise<number> {
  const started = Date.now();
  await Promise.all(urls.map(async (u) => {
    for (const key of keys) {
      for (;;) {
        const call = Date.now();
        const res = await agent.request("GET", `${u}/d/${key}`);
        if (res.status === 200 || res.status === 404) {
          history.push({ kind: "get", key, value: res.status === 200 ? res.body : null, call, ret: Date.now() });
          break;
        }
        assert.ok(Date.now() - started < limitMs, `GET ${key} through ${u} still answers ${res.status} ${limitMs} ms after the heal`);
        await sleep(100);
      }
    }
  }));
  return Date.now() - started;
}

/** Fails unless `history` is linearizable, keeping a failing one as a file a person can read (and replay through the checker), as etcd's robustness tests do. */
export function assertLinearizable(history: readonly Operation[], name: string): void {
  const result = checkHistory(history);
  if (result.ok) return;
  const file = join(tmpdir(), `dht-${name}-history-${Date.now()}.json`);
  writeFileSync(file, JSON.stringify(history, null, 1));
  assert.fail(`not linearizable on key ${result.key}; the whole history is in ${file}`);
}
