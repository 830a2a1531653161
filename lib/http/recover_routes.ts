/**
 * `GET /cluster/recover`: the ranges that lost a quorum of their owners, and for each what a
 * recovery would keep. `POST /cluster/recover` `{"ranges": [...] | "all": true, "by": "..."}`:
 * gives them to their surviving owners in one agreed epoch (topology/recover.ts), recorded in
 * the ring and the event log. `mod.ts recover` and the dashboard's button use these.
 */
import type { RouterType } from "itty-router";
import type { Env } from "../env.ts";
import type { SyncTokens } from "../sync/tokens.ts";
import type { TopologyDriver } from "../topology/driver.ts";
import { lostRanges, type LostRange } from "../topology/lost.ts";
import { isPinName, pinName } from "../topology/pins.ts";
import type { QuorumConfig } from "../topology/range_steps.ts";
import { type Kept, keptBound, keptText, recoveredValue } from "../topology/recover.ts";
import type { Topology } from "../topology/topology.ts";
import { readBodyLimited } from "./body.ts";
import { BadRequestError, jsonResponse, NotFoundError } from "./errors.ts";
import { peerStatus } from "./sync_routes.ts";

export interface RecoverRouteOptions {
  topology: Topology;
  driver: Pick<TopologyDriver, "decide">;
  tokens: SyncTokens;
  quorum: QuorumConfig;
  env: Pick<Env, "clock" | "transport">;
}

/** One range as `GET /cluster/recover` lists it. */
export interface RecoverableRange extends LostRange {
  /** Its owners still members of the ring: what it is given to. */
  survivors: string[];
  kept: Kept;
  /** What recovering it keeps, in words. */
  says: string;
}

/** Said of every recovery: the one case it cannot tell from a crash. */
export const RECOVER_WARNING =
  "recover only ranges whose dead owners are gone for good: an owner that is alive but cut off would go on serving the range on its side, and the two sides could then disagree";

/** Proposals tried before giving up (another epoch may be decided in between). */
const ATTEMPTS = 5;

export function addRecoverRoutes(router: RouterType, o: RecoverRouteOptions): void {
  router
    .get("/cluster/recover", async () => jsonResponse(200, { epoch: o.topology.epoch, warning: RECOVER_WARNING, ranges: await recoverable(o) }))
    .post("/cluster/recover", async (request: Request) => {
      const ask = parseRequest(await readBodyLimited(request, 64 * 1024));
      for (let attempt = 1; ; attempt++) {
        const base = o.topology.state;
        const listed = await recoverable(o);
        if (o.topology.state !== base && attempt < ATTEMPTS) continue; // a later epoch arrived while we asked: list again
        const chosen = ask.all ? listed : listed.filter((r) => ask.ranges.includes(r.range));
        const unknown = ask.all ? [] : ask.ranges.filter((name) => !listed.some((r) => r.range === name));
        if (unknown.length > 0) throw new NotFoundError(`no range that lost its quorum is named ${unknown.join(", ")}: GET /cluster/recover lists them`);
        if (chosen.length === 0) return jsonResponse(200, { epoch: base.epoch, recovered: [], by: ask.by });
        const at = Math.floor(o.env.clock.now());
        const kept = new Map(chosen.map((r) => [r.range, r.kept]));
        const value = recoveredValue(base, new Set(kept.keys()), { at, by: ask.by, kept });
        const result = await o.driver.decide(base, value);
        if ("decided" in result) {
          return jsonResponse(200, { epoch: value.epoch, at: new Date(at).toISOString(), by: ask.by, recovered: chosen.map((r) => ({ range: r.range, survivors: r.survivors, kept: r.says })) });
        }
        if (attempt >= ATTEMPTS) return jsonResponse(503, { error: `the recovery was not decided: ${result.lost}; try again`, epoch: o.topology.epoch });
        await new Promise<void>((resolve) => o.env.clock.setTimeout(resolve, 100 * attempt));
      }
    });
}

/** The ranges that lost a quorum of their owners, each with what recovering it keeps. */
export async function recoverable(o: RecoverRouteOptions): Promise<RecoverableRange[]> {
  const state = o.topology.state;
  const lost = lostRanges(state, o.quorum);
  if (lost.length === 0) return [];
  const survivors = new Set(lost.flatMap((l) => l.owners.filter((id) => !l.dead.includes(id))));
  const synced = await syncedFrom(o, [...survivors]);
  const pins = new Map(state.pins.map((p) => [pinName(p), p]));
  return lost.map((l) => {
    const kept = keptBound(pins.get(l.range)!, new Set(l.dead), new Map([...synced].filter(([id]) => l.owners.includes(id))), o.quorum.writeQuorum);
    return { ...l, survivors: l.owners.filter((id) => !l.dead.includes(id)), kept, says: keptText(kept) };
  });
}

/** Each survivor's anti-entropy record: per lost owner, the time before which all it held reached the survivor. */
async function syncedFrom(o: RecoverRouteOptions, survivors: string[]): Promise<Map<string, Map<string, number>>> {
  const self = o.topology.self.id;
  const entries = await Promise.all(survivors.map(async (id): Promise<[string, Map<string, number>]> => {
    if (id === self) return [id, new Map(Object.entries(o.tokens.syncedFrom()))];
    // A survivor that does not answer has no record: the bound is no better than the others'.
    const { syncedFrom } = await peerStatus(o.env, id);
    const pairs = Array.isArray(syncedFrom) ? syncedFrom : [];
    return [id, new Map(pairs.filter((p): p is [string, number] => Array.isArray(p) && typeof p[0] === "string" && typeof p[1] === "number"))];
  }));
  return new Map(entries);
}

function parseRequest(bytes: Uint8Array): { all: boolean; ranges: string[]; by: string } {
  let body: unknown;
  try {
    body = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new BadRequestError('the body must be JSON: {"ranges": ["lo-hi", ...]} or {"all": true}, with "by": "who"');
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw new BadRequestError("the body must be a JSON object");
  const { all, ranges, by } = body as Record<string, unknown>;
  if (typeof by !== "string" || by.length < 1 || by.length > 200) throw new BadRequestError('"by" must say who recovers (1 to 200 characters)');
  if (all === true) {
    if (ranges !== undefined) throw new BadRequestError('give "ranges" or "all", not both');
    return { all: true, ranges: [], by };
  }
  if (all !== undefined && all !== false) throw new BadRequestError('"all" must be true when given');
  if (!Array.isArray(ranges) || ranges.length === 0 || ranges.length > 10_000 || !ranges.every((r) => typeof r === "string" && isPinName(r))) {
    throw new BadRequestError('"ranges" must be a list of range names (16 hex digits, a dash, 16 hex digits), or give "all": true');
  }
  return { all: false, ranges: ranges as string[], by };
}
