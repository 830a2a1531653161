/**
 * Why a member has the state it has, as this node saw it happen: the probes that failed,
 * who suspected and who confirmed, the suspicion timeout and how it shrank, refutations,
 * the declaration of death and the ring's decisions. Bounded: a ring buffer per member and
 * a cap on members tracked (the least recently touched forgotten first), plus one short
 * log of recent events across members for the dashboard.
 */
import type { Clock } from "../env.ts";

export type MemberEventKind =
  | "joined"
  | "probe failed"
  | "indirect probe"
  | "suspected"
  | "confirmed"
  | "last ping"
  | "suspicion held"
  | "accusation held"
  | "refuted"
  | "dead"
  | "left"
  | "alive"
  | "added to ring"
  | "removed from ring"
  | "recovered";

export interface MemberEvent {
  /** Wall-clock ms of the event on this node. */
  at: number;
  event: MemberEventKind;
  /** Who said so: the suspecting node, the node that declared it dead, the member itself. */
  by?: string;
  [detail: string]: unknown;
}

export type RecentEvent = MemberEvent & { id: string };

/** Events kept per member: enough for several suspicion cycles. */
export const EVENTS_PER_MEMBER = 32;
/** Members whose events are kept. */
export const MAX_MEMBERS_TRACKED = 1_000;
/** Recent events across all members. */
export const RECENT_EVENTS = 200;

export class MemberEvents {
  /** Insertion order is recency: a member touched moves to the end. */
  readonly #byMember = new Map<string, MemberEvent[]>();
  readonly #recent: RecentEvent[] = [];

  constructor(readonly clock: Pick<Clock, "now">, readonly perMember = EVENTS_PER_MEMBER, readonly maxMembers = MAX_MEMBERS_TRACKED) {}

  record(id: string, event: MemberEventKind, details: Omit<MemberEvent, "at" | "event"> = {}): void {
    const entry: MemberEvent = { at: this.clock.now(), event, ...details };
    let list = this.#byMember.get(id);
    if (list) this.#byMember.delete(id);
    else list = [];
    this.#byMember.set(id, list);
    list.push(entry);
    if (list.length > this.perMember) list.shift();
    if (this.#byMember.size > this.maxMembers) this.#byMember.delete(this.#byMember.keys().next().value!);
    this.#recent.push({ id, ...entry });
    if (this.#recent.length > RECENT_EVENTS) this.#recent.shift();
  }

  /** A member's events, oldest first. */
  of(id: string): MemberEvent[] {
    return [...(this.#byMember.get(id) ?? [])];
  }

  /** The latest events across members, oldest first; `after`: only those later than this time. */
  recent(after = -Infinity): RecentEvent[] {
    return this.#recent.filter((e) => e.at > after);
  }
}

/** The ring's decisions about members, from one agreed state to the next; an operator's recovery names the owners it gave up. */
export function recordRingChange(
  events: MemberEvents,
  next: { epoch: number; members: ReadonlyArray<{ id: string }>; recoveries?: ReadonlyArray<{ epoch: number; by: string; ranges: readonly string[]; lost: readonly string[]; kept: string }> },
  previous: { members: ReadonlyArray<{ id: string }> },
): void {
  const before = new Set(previous.members.map((m) => m.id));
  const after = new Set(next.members.map((m) => m.id));
  for (const id of after) if (!before.has(id)) events.record(id, "added to ring", { epoch: next.epoch });
  for (const id of before) if (!after.has(id)) events.record(id, "removed from ring", { epoch: next.epoch });
  const recovery = next.recoveries?.at(-1);
  if (recovery && recovery.epoch === next.epoch) {
    for (const key of recovery.lost) {
      events.record(key.slice(0, key.lastIndexOf("#")), "recovered", { by: recovery.by, epoch: next.epoch, ranges: recovery.ranges.length, kept: recovery.kept });
    }
  }
}
