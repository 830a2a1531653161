/**
 * Topology messages (`POST /_ring/{type}`), msgpack, validated on decode with size limits.
 *
 * - `prepare` / `accept`: Paxos for the epoch after `base` (which the sender holds as decided).
 * - `status`: "here is my epoch"; the receiver adopts it if newer (so it is fenced) and
 *   answers with its own state of play. The driver's poll, and the broadcast of a decision.
 * - `hello`: a process asking to be a member (or saying it is leaving); answered with the ring.
 * - `get`: the receiver's ring, for a node catching up.
 * - `notice`: "I hold epoch e", a few bytes; a receiver behind fetches that ring from the
 *   sender. How a decision spreads to the members nobody told (docs/topology.md).
 *
 * Every reply says who answered (`ref`, nonce included), its epoch and, if the asker is
 * behind, the newer state itself.
 */
import { bool, count, id, list, mapDecoder, memberKeyText, MessageError, record, text } from "./fields.ts";
import { encodeMsgpack as encode } from "./msgpack.ts";
import { MAX_COUNCIL, MAX_PINS, MAX_RECOVERIES, MAX_REMOVED, memberKey, type MemberRef, type Phase, type Pin, type Recovery, type TopologyState } from "./topology_state.ts";

/** A ring proposal's number (topology/paxos.ts): higher round wins, then the proposer's id. */
export interface Ballot {
  round: number;
  by: string;
}

export type PrepareReply = { ok: true; accepted?: { ballot: Ballot; value: TopologyState } } | { ok: false; promised?: Ballot };
export type AcceptReply = { ok: true } | { ok: false; promised?: Ballot };

export type TopologyMessage =
  | { type: "prepare"; from: MemberRef; base: TopologyState; ballot: Ballot }
  | { type: "accept"; from: MemberRef; base: TopologyState; ballot: Ballot; value: TopologyState }
  | { type: "status"; from: MemberRef; state: TopologyState }
  | { type: "hello"; from: MemberRef; leaving: boolean }
  | { type: "get"; from: MemberRef }
  | { type: "notice"; from: MemberRef; epoch: number };

export interface TopologyReply {
  ref: MemberRef;
  epoch: number;
  /** The latest epoch in which this node, as an old owner, finished streaming what it had to move. */
  streamed: number;
  /** New owners (ids) that streaming in that epoch could not reach: ranges moving to them are not streamed by this node. */
  unreached?: string[];
  leaving: boolean;
  /** This node's ring, when the asker's is older (or asked for it). */
  state?: TopologyState;
  prepare?: PrepareReply;
  accept?: AcceptReply;
  /** Why a Paxos message was not considered (not an acceptor of that epoch, other cluster). */
  refused?: string;
  /** To a `get`: what the ring's next change waits for, as the answering node's driver loop sees it. */
  nextChange?: string;
}

export const TOPOLOGY_PATH_PREFIX = "/_ring/";
export const MAX_TOPOLOGY_MESSAGE_BYTES = 4 * 1024 * 1024;
const MAX_MEMBERS = 20_000;
/** Owners one pinned range names in one role (N, with room). */
const MAX_PIN_OWNERS = 64;
const MAX_UNREACHED = 1_000;
const phases: readonly Phase[] = ["stable", "write_both_read_old", "write_both_read_new"];

const map = mapDecoder({ maxStrLength: 64 * 1024, maxArrayLength: MAX_MEMBERS, maxMapLength: 16, maxBinLength: 0 }, MAX_TOPOLOGY_MESSAGE_BYTES);

type WireRef = [string, string];
const refToWire = (m: MemberRef): WireRef => [m.id, m.nonce];
const hex = (position: bigint) => position.toString(16);
const pinToWire = (p: Pin) => [hex(p.lo), hex(p.hi), p.members.map(refToWire), p.next.map(refToWire), p.readNew, p.since, p.at];
const recoveryToWire = (r: Recovery) => [r.epoch, r.at, r.by, r.ranges, r.lost, r.kept];
const stateToWire = (s: TopologyState) => ({
  c: s.cluster, e: s.epoch, p: phases.indexOf(s.phase), m: s.members.map(refToWire), n: s.next.map(refToWire), r: s.removed,
  q: s.pins.map(pinToWire), v: s.recoveries.map(recoveryToWire), ...(s.council?.length ? { k: s.council.map(refToWire) } : {}),
});
const ballotToWire = (b: Ballot | undefined) => (b ? [b.round, b.by] : null);
const acceptedToWire = (a: { ballot: Ballot; value: TopologyState } | undefined) => (a ? { b: ballotToWire(a.ballot), v: stateToWire(a.value) } : null);

export function encodeTopologyMessage(m: TopologyMessage): Uint8Array {
  const wire: Record<string, unknown> = { type: m.type, from: refToWire(m.from) };
  if (m.type === "prepare" || m.type === "accept") {
    wire.base = stateToWire(m.base);
    wire.ballot = ballotToWire(m.ballot);
    if (m.type === "accept") wire.value = stateToWire(m.value);
  }
  if (m.type === "status") wire.state = stateToWire(m.state);
  if (m.type === "hello") wire.leaving = m.leaving;
  if (m.type === "notice") wire.epoch = m.epoch;
  return encode(wire);
}

export function decodeTopologyMessage(bytes: Uint8Array): TopologyMessage {
  const m = map(bytes);
  const from = ref(m.from);
  switch (m.type) {
    case "prepare":
      return { type: "prepare", from, base: state(m.base), ballot: ballot(m.ballot) };
    case "accept":
      return { type: "accept", from, base: state(m.base), ballot: ballot(m.ballot), value: state(m.value) };
    case "status":
      return { type: "status", from, state: state(m.state) };
    case "hello":
      if (typeof m.leaving !== "boolean") throw new MessageError("leaving must be a boolean");
      return { type: "hello", from, leaving: m.leaving };
    case "get":
      return { type: "get", from };
    case "notice":
      return { type: "notice", from, epoch: count(m.epoch, "epoch") };
    default:
      throw new MessageError(`unknown topology message ${JSON.stringify(m.type)}`);
  }
}

export function encodeTopologyReply(r: TopologyReply): Uint8Array {
  const wire: Record<string, unknown> = { ref: refToWire(r.ref), epoch: r.epoch, streamed: r.streamed, leaving: r.leaving };
  if (r.unreached && r.unreached.length > 0) wire.unreached = r.unreached;
  if (r.state) wire.state = stateToWire(r.state);
  if (r.prepare) wire.prepare = r.prepare.ok ? { ok: true, a: acceptedToWire(r.prepare.accepted) } : { ok: false, p: ballotToWire(r.prepare.promised) };
  if (r.accept) wire.accept = r.accept.ok ? { ok: true } : { ok: false, p: ballotToWire(r.accept.promised) };
  if (r.refused) wire.refused = r.refused;
  if (r.nextChange) wire.nextChange = r.nextChange;
  return encode(wire);
}

export function decodeTopologyReply(bytes: Uint8Array): TopologyReply {
  const m = map(bytes);
  if (typeof m.leaving !== "boolean") throw new MessageError("leaving must be a boolean");
  const reply: TopologyReply = { ref: ref(m.ref), epoch: count(m.epoch, "epoch"), streamed: count(m.streamed, "streamed"), leaving: m.leaving };
  if (m.unreached != null) reply.unreached = list(m.unreached, "unreached", MAX_UNREACHED).map((m) => id(m, "unreached member"));
  if (m.state != null) reply.state = state(m.state);
  if (m.prepare != null) {
    const p = record(m.prepare, "prepare");
    if (p.ok === true) {
      const a = p.a == null ? undefined : record(p.a, "accepted");
      reply.prepare = a ? { ok: true, accepted: { ballot: ballot(a.b), value: state(a.v) } } : { ok: true };
    } else reply.prepare = { ok: false, promised: p.p == null ? undefined : ballot(p.p) };
  }
  if (m.accept != null) {
    const a = record(m.accept, "accept");
    reply.accept = a.ok === true ? { ok: true } : { ok: false, promised: a.p == null ? undefined : ballot(a.p) };
  }
  if (m.refused != null) reply.refused = text(m.refused, "refused", 1000);
  if (m.nextChange != null) reply.nextChange = text(m.nextChange, "nextChange", 4000);
  return reply;
}

function ref(v: unknown): MemberRef {
  if (!Array.isArray(v) || v.length !== 2) throw new MessageError("a member is [id, nonce]");
  const known = typeof v[0] === "string" ? KNOWN_REFS.get(v[0]) : undefined;
  if (known !== undefined && known.nonce === v[1]) return known;
  const nonce = text(v[1], "member nonce", 64);
  if (!/^[A-Za-z0-9_-]+$/.test(nonce)) throw new MessageError("a member nonce is letters, digits, '-' and '_'");
  const fresh = Object.freeze({ id: id(v[0], "member id"), nonce });
  if (KNOWN_REFS.size >= MAX_KNOWN_REFS) KNOWN_REFS.clear();
  KNOWN_REFS.set(fresh.id, fresh);
  return fresh;
}

/**
 * The process last decoded at each address, frozen and shared: every ring names the same
 * few thousand members, so each is checked and built once, and every ring decoded since
 * holds the same objects (in the simulator, thousands of nodes' rings). Bounded.
 */
const KNOWN_REFS = new Map<string, MemberRef>();
const MAX_KNOWN_REFS = 50_000;

function refs(v: unknown, field: string): MemberRef[] {
  if (!Array.isArray(v)) throw new MessageError(`${field} must be a list of members`);
  return v.map(ref);
}

function ballot(v: unknown): Ballot {
  if (!Array.isArray(v) || v.length !== 2) throw new MessageError("a ballot is [round, by]");
  return { round: count(v[0], "ballot round"), by: memberKeyText(v[1], "ballot by") };
}

function state(v: unknown): TopologyState {
  const s = record(v, "state");
  const phase = phases[s.p as number];
  if (typeof s.p !== "number" || !phase) throw new MessageError("phase must be 0-2");
  if (!Array.isArray(s.r) || s.r.length > MAX_REMOVED) throw new MessageError(`removed must be a list of at most ${MAX_REMOVED}`);
  const removed = s.r.map((k) => memberKeyText(k, "removed member"));
  const pins = list(s.q ?? [], "pins", MAX_PINS).map(pin);
  for (let i = 1; i < pins.length; i++) if (pins[i]!.lo <= pins[i - 1]!.hi) throw new MessageError("pins must be sorted and disjoint");
  const recoveries = list(s.v ?? [], "recoveries", MAX_RECOVERIES).map(recovery);
  const result: TopologyState = {
    cluster: s.c === "" ? "" : memberKeyText(s.c, "cluster"), epoch: count(s.e, "epoch"), phase, members: refs(s.m, "members"), next: refs(s.n, "next"), removed, pins, recoveries,
  };
  if ((phase === "stable") !== (result.next.length === 0)) throw new MessageError("a stable ring has no next members, a transition has some");
  if (s.k != null) {
    const council = refs(list(s.k, "council", MAX_COUNCIL), "council");
    const ring = new Set([...result.members, ...result.next].map(memberKey));
    if (council.some((m) => !ring.has(memberKey(m)))) throw new MessageError("a council member must be a member of the ring");
    if (council.length > 0) result.council = council;
  }
  return result;
}

const MAX_POSITION = (1n << 64n) - 1n;

function position(v: unknown, field: string): bigint {
  if (typeof v !== "string" || !/^[0-9a-f]{1,16}$/.test(v)) throw new MessageError(`${field} must be a ring position in hex`);
  return BigInt(`0x${v}`);
}

function pin(v: unknown): Pin {
  const t = list(v, "a pin", 7);
  if (t.length !== 7) throw new MessageError("a pin is [lo, hi, members, next, readNew, since, at]");
  const lo = position(t[0], "pin lo");
  const hi = position(t[1], "pin hi");
  if (lo > hi || hi > MAX_POSITION) throw new MessageError("a pin's lo must not be past its hi");
  const owners = (w: unknown, field: string) => {
    const r = refs(list(w, field, MAX_PIN_OWNERS), field);
    if (r.length === 0) throw new MessageError(`${field} must name at least one member`);
    return r;
  };
  return { lo, hi, members: owners(t[2], "pin members"), next: owners(t[3], "pin next"), readNew: bool(t[4], "pin readNew"), since: count(t[5], "pin since"), at: count(t[6], "pin at") };
}

function recovery(v: unknown): Recovery {
  const t = list(v, "a recovery", 6);
  if (t.length !== 6) throw new MessageError("a recovery is [epoch, at, by, ranges, lost, kept]");
  const ranges = list(t[3], "recovered ranges", MAX_PINS).map((x) => text(x, "recovered range", 33));
  const lost = list(t[4], "lost owners", MAX_PINS).map((x) => memberKeyText(x, "lost owner"));
  return { epoch: count(t[0], "recovery epoch"), at: count(t[1], "recovery at"), by: text(t[2], "recovery by", 200), ranges, lost, kept: text(t[5], "recovery kept", 2_000, 0) };
}
