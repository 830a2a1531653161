/** Conditional-write clients against simulated nodes, recorded for the linearizability checker, and the control without consensus. */
import type { Operation } from "../../lib/check/linearizability.ts";
import { conditionHolds } from "../../lib/cas/condition.ts";
import type { DhtNode, NodeOptions } from "../../lib/node.ts";
import type { SimCluster } from "../../lib/sim/cluster.ts";

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
