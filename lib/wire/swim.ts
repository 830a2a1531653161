/**
 * Every SWIM message on the wire: a closed union, msgpack-encoded, validated on decode with
 * size limits, so a malformed, truncated or hostile body is refused and never trusted.
 *
 * Each message carries its sender's id and incarnation (which the receiver treats as the
 * sender's own word that it is alive) and piggybacked membership updates.
 */
import { encodeMsgpack as encode } from "./msgpack.ts";
import { bool, count, id, mapDecoder, MessageError } from "./fields.ts";

/** A member's state as SWIM tells it (membership/member.ts orders them). */
export type MemberState = "alive" | "suspect" | "dead" | "left";

/** What one node says about one member: the unit of gossip. */
export interface Update {
  id: string;
  state: MemberState;
  incarnation: number;
  /** Who declared it: for a suspicion, the suspecting node (confirmations count distinct ones). */
  from: string;
}

/** `epoch`: the latest ring epoch the sender knows, so decided epochs spread by gossip. */
export type SwimMessage =
  | { type: "ping"; from: string; incarnation: number; epoch: number; target: string; updates: Update[] }
  | { type: "ping-req"; from: string; incarnation: number; epoch: number; target: string; timeoutMs: number; updates: Update[] }
  | { type: "ack"; from: string; incarnation: number; epoch: number; updates: Update[] }
  /** `unsure`: the helper missed the target while in doubt of its own links, so its nack accuses nobody (probe.ts). */
  | { type: "nack"; from: string; incarnation: number; epoch: number; updates: Update[]; unsure?: true }
  | {
    type: "sync"; from: string; incarnation: number; epoch: number; join: boolean; members: Update[];
    /** In a push-pull's request: an answer of only what the asker's table lacks will do. */
    partial?: true;
    /** In such an answer: `members` holds only that, and the answering table lists this many (itself included). */
    listed?: number;
  };

export type SwimMessageType = SwimMessage["type"];


/** Largest SWIM body accepted: a full-state sync of ~10,000 members. */
export const MAX_MESSAGE_BYTES = 2 * 1024 * 1024;
const MAX_MEMBERS = 20_000;
const map = mapDecoder({ maxStrLength: 64 * 1024, maxArrayLength: MAX_MEMBERS, maxMapLength: 16, maxBinLength: 0 }, MAX_MESSAGE_BYTES);

const states: readonly MemberState[] = ["alive", "suspect", "dead", "left"];
/** An update's `from` is left out when it is the message's sender: most of a full table, and half its bytes. */
type WireUpdate = [id: string, state: number, incarnation: number, from?: string];

const toWire = (u: Update, sender: string): WireUpdate =>
  u.from === sender ? [u.id, states.indexOf(u.state), u.incarnation] : [u.id, states.indexOf(u.state), u.incarnation, u.from];

export function encodeMessage(message: SwimMessage): Uint8Array {
  const { updates, members, ...rest } = message as SwimMessage & { updates?: Update[]; members?: Update[] };
  const wire: Record<string, unknown> = { ...rest };
  if (updates) wire.updates = updates.map((u) => toWire(u, message.from));
  if (members) wire.members = members.map((u) => toWire(u, message.from));
  return encode(wire);
}

export function decodeMessage(bytes: Uint8Array): SwimMessage {
  const m = map(bytes);
  const base = { from: id(m.from, "from"), incarnation: count(m.incarnation, "incarnation"), epoch: count(m.epoch, "epoch") };
  switch (m.type) {
    case "ping":
      return { type: "ping", ...base, target: id(m.target, "target"), updates: updates(m.updates, base.from) };
    case "ping-req":
      return { type: "ping-req", ...base, target: id(m.target, "target"), timeoutMs: count(m.timeoutMs, "timeoutMs"), updates: updates(m.updates, base.from) };
    case "ack":
      return { type: "ack", ...base, updates: updates(m.updates, base.from) };
    case "nack":
      return { type: "nack", ...base, updates: updates(m.updates, base.from), ...(m.unsure === true ? { unsure: true } : {}) };
    case "sync":
      return {
        type: "sync", ...base, join: bool(m.join, "join"), members: updates(m.members, base.from),
        ...(m.partial === true ? { partial: true } : {}), ...(m.listed != null ? { listed: count(m.listed, "listed") } : {}),
      };
    default:
      throw new MessageError(`unknown message type ${JSON.stringify(m.type)}`);
  }
}

function updates(v: unknown, sender: string): Update[] {
  if (!Array.isArray(v)) throw new MessageError("updates must be an array");
  return v.map((u) => {
    if (!Array.isArray(u) || (u.length !== 3 && u.length !== 4)) throw new MessageError("an update is [id, state, incarnation] or [id, state, incarnation, from]");
    const state = states[u[1] as number];
    if (typeof u[1] !== "number" || !state) throw new MessageError("update state must be 0-3");
    return { id: id(u[0], "update id"), state, incarnation: count(u[2], "update incarnation"), from: u.length === 3 ? sender : id(u[3], "update from") };
  });
}
