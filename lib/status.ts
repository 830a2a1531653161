/**
 * `mod.ts status [host:port]`, like `nodetool status`: one table of the members as one
 * node sees them (state, keys held, share of the ring, whether each holds the same ring),
 * and a verdict. `clusterStatus` gathers from that one node (through an injected fetch);
 * `statusReport` is pure: the same answers always give the same table and exit code.
 */
import type { FetchLike } from "./env.ts";
import { targetUrl } from "./address.ts";
import { STATUS_FANOUT, STATUS_TIMEOUT_MS } from "./http/sync_routes.ts";

interface MemberJson {
  id: string;
  state: string;
  incarnation: number;
}
interface RingJson {
  epoch: number;
  checksum: string;
  phase: string;
  members: string[];
  vnodes: Array<{ position: string; member: string }>;
  /** Ranges held by their own owners, some of which lost a quorum of them. */
  pins?: Array<{ range: string; owners: string[]; quorumLost: boolean; dead: string[] }>;
  nextChange?: { driver: string | null; waitingFor: string };
}
/** One member's entry in `/cluster/sync?all`, as far as the table needs it. */
interface NodeStatusJson {
  id: string;
  runtime: string;
  epoch: number;
  ringChecksum: string;
  liveKeys: number;
  member?: boolean;
}
interface HealthJson {
  runtime: string;
  epoch: number;
  checksum: string;
  liveKeys: number;
  /** Whether the process answering at this address is the one the ring names (false: restarted, not yet in). */
  member?: boolean;
}

export interface StatusInput {
  via: string;
  members: MemberJson[];
  ring: RingJson;
  /** Each member's /health, or why it gave none. */
  health: Map<string, HealthJson | { error: string }>;
}

const SPACE = 1n << 64n;

/** Each member's share of the ring's positions as a primary owner (the arc ending at each of its vnodes). */
export function ringShares(vnodes: RingJson["vnodes"]): Map<string, number> {
  const shares = new Map<string, number>();
  const positions = vnodes.map((v) => ({ at: BigInt(`0x${v.position}`), member: v.member })).sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  positions.forEach((v, i) => {
    const previous = i === 0 ? positions.at(-1)!.at - SPACE : positions[i - 1]!.at;
    const arc = Number(v.at - previous) / Number(SPACE);
    shares.set(v.member, (shares.get(v.member) ?? 0) + arc);
  });
  return shares;
}

/** The table, the problems found, and the exit code: 0 all alive on one agreed ring, else 1. */
export function statusReport({ via, members, ring, health }: StatusInput): { text: string; code: number } {
  const shares = ringShares(ring.vnodes);
  const problems: string[] = [];
  const rows = [["member", "state", "runtime", "keys", "ring share", "epoch", "same ring"]];
  const pins = ring.pins ?? [];
  const owning = new Set([...ring.members, ...pins.flatMap((p) => p.owners)]);
  for (const m of members) {
    const h = health.get(m.id);
    const ok = h !== undefined && !("error" in h);
    const agrees = ok ? h.checksum === ring.checksum : undefined;
    if (m.state !== "alive") {
      // A dead member the ring no longer names is history (it was removed), not a problem.
      if (owning.has(m.id)) problems.push(`${m.id} is ${m.state}`);
    } else if (!owning.has(m.id)) problems.push(`${m.id} is alive but not on the ring yet`);
    else if (!ok) problems.push(`${m.id} did not answer: ${h && "error" in h ? h.error : "not asked"}`);
    else if (h.member === false) problems.push(`${m.id} answers from a new process the ring has not taken in yet (it replaces the old one soon)`);
    else if (!agrees) problems.push(`${m.id} holds epoch ${h.epoch} (${h.checksum}), not ${ring.epoch} (${ring.checksum})`);
    const share = shares.get(m.id);
    rows.push([
      m.id,
      m.state,
      ok ? h.runtime : "-",
      ok ? String(h.liveKeys) : "-",
      share === undefined ? "-" : `${(share * 100).toFixed(1)}%`,
      ok ? String(h.epoch) : "-",
      agrees === undefined ? "-" : agrees ? "yes" : "no",
    ]);
  }
  if (ring.phase !== "stable") problems.push(`the ring is in transition (${ring.phase})`);
  const lost = pins.filter((p) => p.quorumLost);
  if (lost.length > 0) {
    const dead = [...new Set(lost.flatMap((p) => p.dead))].sort();
    problems.push(`${lost.length} ranges lost a quorum of their owners (dead: ${dead.join(", ")}): their keys answer 503 until those members return or you run \`mod.ts recover ${via}\``);
  }
  const moving = pins.length - lost.length;
  if (moving > 0) problems.push(`${moving} pinned ranges are on their way back to the ring's owners`);
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const table = rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i]!)).join("  ").trimEnd());
  const heading = `cluster seen from ${via}: epoch ${ring.epoch} (${ring.phase}), checksum ${ring.checksum}, ${ring.members.length} members on the ring`;
  const verdict = problems.length === 0 ? "all members alive, every one on the same ring" : problems.map((p) => `! ${p}`).join("\n");
  const next = ring.nextChange ? [`next ring change (driver ${ring.nextChange.driver ?? "none"}): ${ring.nextChange.waitingFor}`] : [];
  return { text: [heading, "", ...table, "", verdict, ...next].join("\n"), code: problems.length === 0 ? 0 : 1 };
}

/**
 * Asks `via` for its members, its ring and every live member's status, which `via` gathers
 * itself (`/cluster/sync?all`), so the one address is all this needs to reach.
 */
export async function clusterStatus(via: string, fetchFn: FetchLike, timeoutMs = 2_000): Promise<StatusInput> {
  const get = async (path: string, waitMs = timeoutMs) => {
    const res = await fetchFn(`${targetUrl(via)}${path}`, { signal: AbortSignal.timeout(waitMs) });
    if (res.status !== 200) throw new Error(`${path} answered ${res.status}`);
    return res.json();
  };
  const members = ((await get("/cluster/members")) as { members: MemberJson[] }).members;
  const ring = (await get("/cluster/ring")) as RingJson;
  // `via` asks STATUS_FANOUT members at a time, waiting STATUS_TIMEOUT_MS for each wave.
  const waves = Math.ceil(members.length / STATUS_FANOUT);
  const all = (await get("/cluster/sync?all", timeoutMs + waves * STATUS_TIMEOUT_MS)) as { nodes: Array<NodeStatusJson | { id: string; error: string }> };
  const health = new Map<string, HealthJson | { error: string }>();
  for (const n of all.nodes) {
    health.set(n.id, "error" in n ? { error: n.error } : { runtime: n.runtime, epoch: n.epoch, checksum: n.ringChecksum, liveKeys: n.liveKeys, member: n.member });
  }
  return { via, members, ring, health };
}
