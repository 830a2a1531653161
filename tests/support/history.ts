/** Client operations against simulated nodes, recorded as the linearizability checker reads them. */
import type { Operation } from "../../lib/check/linearizability.ts";
import type { DhtNode } from "../../lib/node.ts";
import type { SimCluster } from "../../lib/sim/cluster.ts";

/**
 * One operation on `key` through `node`, chosen by `roll` in [0, 1): a PUT of `value`
 * (45%), a GET (40%) or a DELETE. A PUT or DELETE without a 2xx/404 answer has an unknown
 * outcome (it may have taken effect); a GET without one tells nothing (undefined).
 */
export async function randomOperation(c: SimCluster, node: DhtNode, key: string, roll: number, value: string): Promise<Operation | undefined> {
  const call = c.clock.now();
  const url = `http://${node.id}/d/${key}`;
  if (roll < 0.45) {
    const res = await node.fetch(new Request(url, { method: "PUT", body: value }));
    return { kind: "put", key, value, call, ret: res.status === 204 ? c.clock.now() : undefined };
  }
  if (roll < 0.85) {
    const res = await node.fetch(new Request(url));
    const ret = c.clock.now();
    if (res.status === 200) return { kind: "get", key, value: await res.text(), call, ret };
    if (res.status === 404) return { kind: "get", key, value: null, call, ret };
    return undefined;
  }
  const res = await node.fetch(new Request(url, { method: "DELETE" }));
  const ret = c.clock.now();
  if (res.status === 204) return { kind: "delete", key, found: true, call, ret };
  if (res.status === 404) return { kind: "delete", key, found: false, call, ret };
  return { kind: "delete", key, call };
}
