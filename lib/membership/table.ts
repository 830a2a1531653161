/**
 * The member table: what this node believes about every other member, and the one rule
 * for changing it. `transition()` is pure (table-tested); `MemberTable.apply()` stores its
 * result and says what the protocol must do about it, so every side effect (gossip,
 * suspicion timers, listeners, logs) is decided in one place and performed in another.
 */
import { isGone, type Member, type MemberState, supersedes, type Update } from "./member.ts";

/** Gone members remembered so stale gossip cannot bring them back; oldest forgotten first. */
export const MAX_GONE_REMEMBERED = 10_000;
/**
 * Alive and suspect members at most (self not included): past it a member not yet known is
 * not taken in, so a flood of made-up members (possible without a cluster key) cannot grow
 * the table, the probe order and the gossip without limit.
 */
export const MAX_LIVE_MEMBERS = 10_000;

/** What an update about another member means for the table. */
export type Transition =
  /** Old news, or nothing new: nothing to do. */
  | { kind: "none" }
  /** Another node suspects a member already suspect at this incarnation: a confirmation. */
  | { kind: "confirm" }
  /** The table changes: gossip it, restart its suspicion, tell listeners if the state moved. */
  | { kind: "change"; member: Member; previous: MemberState | undefined; isNew: boolean }
  /** A member not yet known, alive or suspect, while the table holds MAX_LIVE_MEMBERS: not taken in. */
  | { kind: "full" };

export function transition(current: Member | undefined, update: Update, now: number): Transition {
  if (update.state === "suspect" && current?.state === "suspect" && update.incarnation === current.incarnation) return { kind: "confirm" };
  if (!supersedes(update, current)) return { kind: "none" };
  const member: Member = { id: update.id, state: update.state, incarnation: update.incarnation, since: now };
  return { kind: "change", member, previous: current?.state, isNew: !current };
}

export class MemberTable {
  readonly #members = new Map<string, Member>();
  #live = 0;

  constructor(readonly maxGone = MAX_GONE_REMEMBERED, readonly maxLive = MAX_LIVE_MEMBERS) {}

  get(id: string): Member | undefined {
    return this.#members.get(id);
  }

  values(): IterableIterator<Member> {
    return this.#members.values();
  }

  /** Applies an update about another member; returns what changed. */
  apply(update: Update, now: number): Transition {
    const current = this.#members.get(update.id);
    if (!current && !isGone(update.state) && this.#live >= this.maxLive) return { kind: "full" };
    const t = transition(current, update, now);
    if (t.kind !== "change") return t;
    this.#members.set(update.id, t.member);
    this.#live += (isGone(t.member.state) ? 0 : 1) - (current && !isGone(current.state) ? 1 : 0);
    if (t.previous !== t.member.state && isGone(t.member.state)) this.#forgetOldestGone();
    return t;
  }

  /** Members known, in any state (self not included). */
  get size(): number {
    return this.#members.size;
  }

  /** Members alive or suspect (self not included). */
  liveCount(): number {
    return this.#live;
  }

  ids(keep: (m: Member) => boolean): string[] {
    const out: string[] = [];
    for (const m of this.#members.values()) if (keep(m)) out.push(m.id);
    return out;
  }

  /** Up to `count` ids of members `keep` accepts, chosen uniformly in one pass (reservoir sampling): no list of them all, no shuffle. */
  sample(count: number, keep: (m: Member) => boolean, random: () => number): string[] {
    const chosen: string[] = [];
    let seen = 0;
    for (const m of this.#members.values()) {
      if (!keep(m)) continue;
      seen++;
      if (chosen.length < count) chosen.push(m.id);
      else {
        const at = Math.floor(random() * seen);
        if (at < count) chosen[at] = m.id;
      }
    }
    return chosen;
  }

  #forgetOldestGone(): void {
    let gone = 0;
    let oldest: Member | undefined;
    for (const m of this.#members.values()) {
      if (!isGone(m.state)) continue;
      gone++;
      if (!oldest || m.since < oldest.since) oldest = m;
    }
    if (gone > this.maxGone && oldest) this.#members.delete(oldest.id);
  }
}
