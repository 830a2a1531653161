/**
 * Conditional writes' messages (lib/cas): prepare and accept, which travel in the same
 * batches as puts and gets (`/_kv/batch`). msgpack, validated on decode.
 */
import { encodeMsgpack as encode } from "./msgpack.ts";
import { ballot, ballotToWire, entry, entryToWire, list, MessageError, version, versionToWire } from "./fields.ts";
import type { Entry } from "../store/store.ts";
import type { Ballot, Version } from "../store/version.ts";

/** Most chosen versions a prepare's reply carries (the acceptor keeps as many). */
export const CHOSEN_KEPT = 32;

/** A proposal an acceptor took: at which ballot, over which version, and the entry it would store. */
export interface Pending {
  ballot: Ballot;
  base: Version | undefined;
  entry: Entry;
}

export type CasRequest =
  | { type: "prepare"; key: string; epoch: number; ballot: Ballot }
  | { type: "cas-state"; key: string; epoch: number }
  | { type: "accept"; key: string; epoch: number; ballot: Ballot; base: Version | undefined; entry: Entry };

/**
 * Promised, with what the store holds and any proposal accepted over it; or refused,
 * naming the higher promise. Either way the conditional versions the replica knows were
 * chosen lately (lib/cas/acceptor.ts, CHOSEN_KEPT).
 */
export type PrepareReply = { promised: true; entry?: Entry; accepted?: Pending; chosen?: Version[] } | { promised: false; ballot: Ballot; chosen?: Version[] };

/** Accepted; or refused for a higher promise (`ballot`) or a newer stored version (`current`). */
export type AcceptReply = { accepted: true } | { accepted: false; ballot?: Ballot; current?: Version };

/** What an acceptor holds for a key, for operators (the dashboard's key lookup): read only. */
export interface CasState {
  promised?: Ballot;
  /** An accepted proposal the store does not hold yet. */
  pending?: Version;
}

export function encodeCasRequest(r: CasRequest): Uint8Array {
  if (r.type === "cas-state") return encode({ type: "cas-state", key: r.key, e: r.epoch });
  if (r.type === "prepare") return encode({ type: "prepare", key: r.key, e: r.epoch, b: ballotToWire(r.ballot) });
  return encode({ type: "accept", key: r.key, e: r.epoch, b: ballotToWire(r.ballot), base: r.base ? versionToWire(r.base) : null, entry: entryToWire(r.entry) });
}

/** The fields of a prepare or accept beyond those every replica message has (`key`, `e`). */
export function decodeCasFields(m: Record<string, unknown>, key: string, epoch: number): CasRequest {
  if (m.type === "cas-state") return { type: "cas-state", key, epoch };
  const b = ballot(m.b);
  if (m.type === "prepare") return { type: "prepare", key, epoch, ballot: b };
  return { type: "accept", key, epoch, ballot: b, base: m.base == null ? undefined : version(m.base), entry: entry(m.entry) };
}

export const pendingToWire = (p: Pending) => [ballotToWire(p.ballot), p.base ? versionToWire(p.base) : null, entryToWire(p.entry)];

export function pendingFromWire(raw: unknown, field: string): Pending {
  if (!Array.isArray(raw) || raw.length !== 3) throw new MessageError(`${field} must be [ballot, base, entry]`);
  const [b, base, e] = raw;
  return { ballot: ballot(b), base: base == null ? undefined : version(base), entry: entry(e) };
}

export function encodePrepareReply(r: PrepareReply): Uint8Array {
  const chosen = r.chosen?.length ? r.chosen.map(versionToWire) : null;
  if (!r.promised) return encode({ ok: false, b: ballotToWire(r.ballot), chosen });
  return encode({ ok: true, entry: r.entry ? entryToWire(r.entry) : null, accepted: r.accepted ? pendingToWire(r.accepted) : null, chosen });
}

export function decodePrepareReply(m: Record<string, unknown>): PrepareReply {
  const chosen = m.chosen == null ? undefined : list(m.chosen, "chosen", CHOSEN_KEPT).map(version);
  if (m.ok === false) return chosen ? { promised: false, ballot: ballot(m.b), chosen } : { promised: false, ballot: ballot(m.b) };
  if (m.ok !== true) throw new MessageError("ok must be a boolean");
  const reply: PrepareReply = { promised: true };
  if (chosen) reply.chosen = chosen;
  if (m.entry != null) reply.entry = entry(m.entry);
  if (m.accepted != null) reply.accepted = pendingFromWire(m.accepted, "accepted");
  return reply;
}

export function encodeAcceptReply(r: AcceptReply): Uint8Array {
  if (r.accepted) return encode({ ok: true });
  return encode({ ok: false, b: r.ballot ? ballotToWire(r.ballot) : null, current: r.current ? versionToWire(r.current) : null });
}

export function decodeAcceptReply(m: Record<string, unknown>): AcceptReply {
  if (m.ok === true) return { accepted: true };
  if (m.ok !== false) throw new MessageError("ok must be a boolean");
  const reply: AcceptReply = { accepted: false };
  if (m.b != null) reply.ballot = ballot(m.b);
  if (m.current != null) reply.current = version(m.current);
  return reply;
}

export const encodeCasState = (s: CasState) => encode({ promised: s.promised ? ballotToWire(s.promised) : null, pending: s.pending ? versionToWire(s.pending) : null });

export function decodeCasState(m: Record<string, unknown>): CasState {
  const state: CasState = {};
  if (m.promised != null) state.promised = ballot(m.promised);
  if (m.pending != null) state.pending = version(m.pending);
  return state;
}
