/** Conditional-write clients against simulated nodes, recorded for the linearizability checker, and the control without consensus. */
import type { Operation } from "../../lib/check/linearizability.ts";
import { conditionHolds } from "../../lib/cas/condition.ts";
import assert from "node:assert/strict";
import { seededRandom } from "../../lib/env.ts";
import type { DhtNode, NodeOptions } from "../../lib/node.ts";
import type { SimCluster } from "../../lib/sim/cluster.ts";
import { formRing, simCluster } from "./sim.ts";

/**
 * The control: a conditional write as a quorum read, a check, then a plain write, with no
 * consensus between. Two writers that read the same version both win.
 */
export const readThenWrite: NonNullable<NodeOptions["conditional"]> = (coordinator) => async (key, condition, write) => {
  const current = await coordinator.get(key);
  if (!conditionHolds(condition, current)) return { won: false, current };
  if (write === "delete") {
    const version = await coordinator.delete(key);
    return version ? { won: true, entry: { value: new Uint8Array(0), contentType: "", version, tombstone: true } } : { won: false, current: undefined };
  }
  return { won: true, entry: await coordinator.put(key, write) };
};

/** What a GET found: the value and its version, or nothing (null); undefined when it got no answer. */
export async function readKey(c: SimCluster, node: DhtNode, key: string, history: Operation[]): Promise<{ value: string; version: string } | null | undefined> {
  const call = c.clock.now();
  const res = await node.fetch(new Request(`http://${node.id}/d/${key}`));
  const ret = c.clock.now();
  if (res.status === 404) {
    await res.body?.cancel();
    history.push({ kind: "get", key, value: null, call, ret });
    return null;
  }
  if (res.status !== 200) {
    await res.body?.cancel();
    return undefined;
  }
  const value = await res.text();
  history.push({ kind: "get", key, value, call, ret });
  return { value, version: res.headers.get("x-dht-version")! };
}

/**
 * A conditional write through `node` over what a read found: `If-Match` its version (or
 * `If-None-Match: *` when it found nothing), writing `value` (null: a conditional DELETE).
 * Recorded as won (204), failed (412) or of unknown outcome.
 */
export async function conditionalWrite(c: SimCluster, node: DhtNode, key: string, read: { value: string; version: string } | null, value: string | null, history: Operation[]): Promise<number> {
  const call = c.clock.now();
  const headers: Record<string, string> = read ? { "if-match": `"${read.version}"` } : { "if-none-match": "*" };
  const method = value === null ? "DELETE" : "PUT";
  const res = await node.fetch(new Request(`http://${node.id}/d/${key}`, { method, headers, body: value ?? undefined }));
  await res.body?.cancel();
  const ret = c.clock.now();
  const known = res.status === 204 || res.status === 412;
  history.push({ kind: "cas", key, expect: read ? read.value : null, value, won: res.status === 204, call, ret: known ? ret : undefined });
  return res.status;
}

/** Clients racing conditional and plain writes on a few keys while a fault plays out. */
export interface Scenario {
  name: string;
  nodes: number;
  keys: string[];
  /** Share of rounds that make a plain PUT or DELETE instead. */
  plain: number;
  /** Share of conditional writes that are conditional DELETEs. */
  deletes: number;
  /** Called every 50 ms with the time since the clients started. */
  fault?(c: SimCluster, ids: string[], elapsedMs: number): void;
}

/**
 * `clients` clients, each reading a key then writing it conditionally (or, at the scenario's
 * rate, plainly) through random nodes for `durationMs`; then a last read of every key.
 */
export async function runClients(seed: number, scenario: Scenario, node?: Pick<NodeOptions, "conditional" | "casFaults">, clients = 6, durationMs = 10_000) {
  const c = simCluster({ seed, network: { minDelayMs: 1, maxDelayMs: 10, loss: 0 }, skewMs: (i) => (i === 2 ? -3_600_000 : i === 3 ? 90_000 : 0), node });
  for (let i = 0; i < scenario.nodes; i++) c.add();
  assert.ok((await formRing(c, scenario.nodes)) !== undefined, "the ring formed");
  const ids = c.liveIds();
  const random = seededRandom(seed);
  const history: Operation[] = [];
  const statuses = new Map<number, number>();
  const started = c.clock.now();
  let running = clients;
  const via = () => {
    const live = c.liveIds().filter((id) => !c.network.isDown(id));
    return c.nodes.get(live[Math.floor(random.next() * live.length)]!)!;
  };
  const client = async (n: number) => {
    for (let i = 0; c.clock.now() - started < durationMs; i++) {
      const key = scenario.keys[Math.floor(random.next() * scenario.keys.length)]!;
      const read = await readKey(c, via(), key, history);
      const roll = random.next();
      const tag = `c${n}-${i}`;
      if (read !== undefined && roll >= scenario.plain) {
        const count = read ? Number(read.value.split(":")[0]) : 0;
        const value = roll > 1 - scenario.deletes && read ? null : `${count + 1}:${tag}`;
        const status = await conditionalWrite(c, via(), key, read, value, history);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
      } else {
        const node = via();
        const call = c.clock.now();
        const remove = roll < scenario.plain / 3;
        const res = await node.fetch(new Request(`http://${node.id}/d/${key}`, { method: remove ? "DELETE" : "PUT", body: remove ? undefined : `0:${tag}` }));
        await res.body?.cancel();
        const ret = res.status === 204 || res.status === 404 ? c.clock.now() : undefined;
        history.push(remove ? { kind: "delete", key, found: res.status === 204 ? true : res.status === 404 ? false : undefined, call, ret } : { kind: "put", key, value: `0:${tag}`, call, ret });
      }
    }
    running--;
  };
  const all = Array.from({ length: clients }, (_, n) => client(n));
  while (running > 0) {
    scenario.fault?.(c, ids, c.clock.now() - started);
    await c.run(50);
  }
  await Promise.all(all);
  // A last read of every key, after the faults: what the counter came to.
  c.network.heal();
  for (const id of ids) c.network.slow(id, 0);
  for (const key of scenario.keys) {
    const node = via();
    await c.runUntil(readKey(c, node, key, history), `GET ${key} after the run`);
  }
  return { history, statuses };
}
