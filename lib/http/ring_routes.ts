/** The ring, for operators: `GET /cluster/ring` and `GET /cluster/locate/{key}`. */
import type { RouterType } from "itty-router";
import { positionHex, ringPosition } from "../ring/hash.ts";
import type { TopologyDriver } from "../topology/driver.ts";
import { lostRanges } from "../topology/lost.ts";
import { isMoving, pinName } from "../topology/pins.ts";
import { acceptors, memberKey, stateChecksum } from "../topology/state.ts";
import type { Topology } from "../topology/topology.ts";
import { decodeKey } from "./kv_routes.ts";
import { jsonResponse } from "./errors.ts";

interface RingRouteOptions {
  topology: Topology;
  /** The loop that moves the ring: who drives it, and what the next change waits for. */
  driver: Pick<TopologyDriver, "driver" | "reason">;
  replicas: number;
  writeQuorum: number;
  readQuorum: number;
  vnodes: number;
  /** What each owner of a key holds (the coordinator's `inspect`). */
  inspect: (key: string) => Promise<{ copies: unknown[] }>;
}

/**
 * What every view of the ring reports: the epoch and a checksum of its whole value (also
 * as `ringChecksum`, the name /health and /cluster/members gave it before epochs).
 */
export function ringSummary(topology: Topology) {
  const { state } = topology;
  const checksum = stateChecksum(state);
  return { epoch: state.epoch, checksum, ringChecksum: checksum, phase: state.phase };
}

/** How long /cluster/ring waits for the driver to say what the next change waits for. */
const ASK_DRIVER_MS = 500;

/** What the ring's next change waits for: this node's word if it drives the ring, else the driver's. */
export async function nextChange(topology: Topology, driver: RingRouteOptions["driver"]): Promise<{ driver: string | null; waitingFor: string }> {
  const d = driver.driver();
  if (!d) return { driver: null, waitingFor: "this node holds no ring yet" };
  if (memberKey(d) === topology.selfKey) return { driver: d.id, waitingFor: driver.reason };
  const reply = await topology.ask(d.id, { type: "get", from: topology.self }, ASK_DRIVER_MS);
  return { driver: d.id, waitingFor: reply?.nextChange ?? `the driver (${d.id}) did not answer` };
}

export function addRingRoutes(router: RouterType, { topology, driver, replicas, writeQuorum, readQuorum, vnodes, inspect }: RingRouteOptions): void {
  const quorum = { replicas, writeQuorum, readQuorum };
  router
    .get("/cluster/ring", async () => {
      const { state, layout } = topology;
      const lost = new Map(lostRanges(state, quorum).map((l) => [l.range, l]));
      return jsonResponse(200, {
        ...ringSummary(topology),
        members: layout.current.members(),
        // During a transition: the owners ranges are moving to.
        next: state.next.map((m) => m.id),
        processes: { members: state.members, next: state.next },
        // Who votes on the next epoch: every member of a small ring, else this council (docs/topology.md).
        council: acceptors(state).map((m) => m.id),
        vnodesPerMember: vnodes,
        quorum: { n: replicas, w: writeQuorum, r: readQuorum },
        // What the next ring change waits for, in the driver's words.
        nextChange: await nextChange(topology, driver),
        // Ranges held by their own owners (they could not move with the rest); `quorumLost`:
        // too few of their owners are members for a quorum, and they wait for `mod.ts recover`.
        pins: state.pins.map((p) => {
          const range = pinName(p);
          const l = lost.get(range);
          return {
            range, lo: positionHex(p.lo), hi: positionHex(p.hi), owners: p.members.map((m) => m.id), next: p.next.map((m) => m.id),
            moving: isMoving(p), readNew: p.readNew, since: new Date(p.at).toISOString(), epoch: p.since,
            quorumLost: l !== undefined, dead: l?.dead ?? [],
          };
        }),
        quorumLost: lost.size,
        recoveries: state.recoveries,
        // Each virtual node owns the keys after the previous position, up to its own.
        // During a transition, `moving`: the range ending here changes owners.
        vnodes: layout.current.vnodes().map((v) => ({
          position: positionHex(v.position),
          member: v.member,
          ...(layout.stable ? {} : { moving: layout.changes(v.position) }),
        })),
      });
    })
    .get("/cluster/locate/:key", async (request: Request & { params: { key: string } }) => {
      const key = decodeKey(request.params.key);
      const position = ringPosition(key);
      const { layout } = topology;
      const placement = layout.placement(position);
      // `?versions`: also what each owner holds, asked one by one.
      const versions = new URL(request.url).searchParams.has("versions") ? { copies: (await inspect(key)).copies } : {};
      return jsonResponse(200, {
        key,
        position: positionHex(position),
        epoch: layout.epoch,
        replicas: layout.current.preferenceList(position, replicas),
        ...(layout.stable ? {} : { read: placement.read, writes: placement.writes }),
        ...versions,
      });
    });
}
