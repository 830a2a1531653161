/**
 * Full-state exchanges: joining through introducers, and the periodic push-pull that heals
 * what gossip missed. Both send this node's whole table; a joiner gets the whole of the
 * other's back, a push-pull only what its own lacked (the other has just merged it).
 */
import type { SwimMessage } from "../wire/swim.ts";
import { isReaped, lackedBy, type Update } from "./member.ts";
import type { SwimCore } from "./swim_core.ts";
import { MAX_PIGGYBACK, pushPullIntervalMs } from "./timing.ts";

const JOIN_BACKOFF_MAX_MS = 30_000;
/** More new members than this learned at once is a crowd joining (one message's worth of gossip; fewer in a small cluster). */
const CROWD = MAX_PIGGYBACK;
/** Protocol periods a node push-pulls every period after it learned of a crowd, or last found tables differing. */
const BUSY_PERIODS = 10;

type SyncMessage = Extract<SwimMessage, { type: "sync" }>;

export class StateSync {
  /** Whether this node has merged another's full table, or needs none (it starts the cluster). */
  joined = false;

  constructor(readonly core: SwimCore) {}

  /** Asks each introducer in turn for its table; retries with backoff until one answers. */
  async join(introducers: string[], attempt = 0): Promise<void> {
    const { core } = this;
    for (const introducer of introducers) {
      if (!core.running) return;
      const reply = await core.send(introducer, this.#message(true), core.config.protocolPeriodMs * 2);
      if (reply?.type === "sync") {
        const before = core.liveCount();
        this.merge(reply.members, true);
        core.env.log.info("joined", { via: introducer, members: core.liveCount() });
        // The introducer's table may be behind on a crowd joining at once.
        this.#note(core.liveCount() - before, true);
        return;
      }
      core.env.log.warn("join failed", { via: introducer, attempt: attempt + 1 });
    }
    const backoff = Math.min(JOIN_BACKOFF_MAX_MS, core.config.protocolPeriodMs * 2 ** attempt);
    core.schedule(() => void this.join(introducers, attempt + 1), core.jitter(backoff));
  }

  /**
   * Full-state sync with one random live member, and (Serf's reconnect) with one random
   * member we hold as dead: if it is in fact alive, say across a healed partition, it
   * learns it was declared dead, refutes, and the two sides merge again.
   *
   * While a crowd joins (a cluster forming, a mass restart) there is more news than
   * piggybacking can carry. A node that learns of more new members at once than a message
   * carries (MAX_PIGGYBACK; in a small cluster, than a quarter of those it lists)
   * push-pulls every protocol period for a while (BUSY_PERIODS),
   * and longer while its exchanges still find tables that differ: full-state exchanges
   * spread the crowd in O(log N) rounds. A member or two joining now and then never does
   * this, so a settled or slowly changing cluster pays nothing for it.
   */
  pushPullTick(): void {
    const { core } = this;
    if (!core.running) return;
    const [peer] = core.randomMembers(1, (m) => m.state === "alive");
    const [dead] = core.randomMembers(1, (m) => m.state === "dead");
    if (dead) void this.#exchange(dead);
    if (!peer) return this.schedulePushPull(this.nextPushPullMs());
    const round = this.#round;
    void this.#exchange(peer).then(() => {
      if (round === this.#round) this.schedulePushPull(this.nextPushPullMs());
    });
  }

  /** (Re)schedules the next push-pull, in place of the one pending: one chain of them, ever. */
  schedulePushPull(ms: number): void {
    const round = ++this.#round;
    this.core.schedule(() => {
      if (round === this.#round) this.pushPullTick();
    }, ms);
  }

  /** Counts schedulings; a pending push-pull of an earlier one is void. */
  #round = 0;
  /** Local monotonic ms until which push-pulls come every protocol period. */
  #busyUntil = -Infinity;

  async #exchange(peer: string): Promise<void> {
    const { core } = this;
    const reply = await core.send(peer, { ...this.#message(false), partial: true }, core.config.protocolPeriodMs * 2);
    if (reply?.type === "sync") this.#mergeAndNote(reply.members, reply.listed);
  }

  /**
   * Merges another node's table (or, `listed` given, what of it ours lacked), and notes how
   * many more members this node lists alive, and whether the two tables named different
   * members. Who they name, not what they say of them: members coming and going on a lossy
   * link do not keep the exchanges busy.
   */
  #mergeAndNote(members: Update[], listed = members.length): void {
    const { core } = this;
    const [live, known] = [core.liveCount(), core.table.size];
    this.merge(members, false);
    // Their table holds them and us; ours holds neither self.
    this.#note(core.liveCount() - live, core.table.size !== known || listed !== core.table.size + 1);
  }

  /** A crowd learned at once starts the busy time; an exchange that found tables differing extends it. */
  #note(learned: number, differed: boolean): void {
    const { core } = this;
    const now = core.env.clock.monotonicMs();
    const busy = now < this.#busyUntil;
    // A crowd: more than a message carries, or (in a small cluster) more than a quarter of those listed.
    const crowd = Math.min(CROWD, Math.max(2, Math.floor(core.liveCount() / 4)));
    if (learned > crowd || (busy && differed)) this.#busyUntil = now + BUSY_PERIODS * core.config.protocolPeriodMs;
    if (!busy && now < this.#busyUntil && core.config.pushPullIntervalMs > 0) this.schedulePushPull(this.nextPushPullMs());
  }

  /** Until the next push-pull: one protocol period while busy, else memberlist's interval. */
  nextPushPullMs(): number {
    const { core } = this;
    if (core.env.clock.monotonicMs() < this.#busyUntil) return core.jitter(core.config.protocolPeriodMs);
    return core.jitter(pushPullIntervalMs(core.config.pushPullIntervalMs, core.liveCount()));
  }

  /** Another node's sync: take its table, vouch for the sender, answer with ours. */
  answer(message: SyncMessage): SyncMessage {
    const { core } = this;
    // The sender's word about itself first: a joiner is news to gossip, though it is in its own table too.
    core.apply({ id: message.from, state: "alive", incarnation: message.incarnation, from: message.from });
    if (message.join) this.merge(message.members, true);
    else this.#mergeAndNote(message.members);
    if (message.join) core.env.log.info("member joining", { id: message.from });
    if (message.join || !message.partial) return this.#message(false);
    // A push-pull: the asker's table is merged here already, so what it lacks is what ours says better.
    const ours = this.#fullState();
    return { ...this.#message(false, lackedBy(ours, message.members, message.from)), listed: ours.length };
  }

  /**
   * Full state from another node. A death it reports is only a suspicion here (memberlist's
   * rule: give the member a chance to refute); a leave is the member's own word.
   */
  merge(members: Update[], joining: boolean): void {
    const { core } = this;
    this.joined = true;
    for (const u of members) {
      if (u.state === "dead" && u.id !== core.self) {
        if (joining) continue;
        core.apply({ ...u, state: "suspect" }, true);
      } else {
        core.apply(u, true);
      }
    }
  }

  #message(join: boolean, members = this.#fullState()): SyncMessage {
    return { type: "sync", ...this.core.header(), join, members };
  }

  /** Every member listed as an update, self included (the reaped left out): straight from the table, unsorted (while a crowd joins, every node sends this every period). */
  #fullState(): Update[] {
    const { core } = this;
    const state = [core.selfUpdate()];
    const now = core.env.clock.now();
    for (const m of core.table.values()) {
      if (isReaped(m, now, core.config.reapAfterMs)) continue;
      // A suspicion names who first raised it, not this node: passing it on is no confirmation of it.
      const raisedBy = m.state === "suspect" ? core.suspicions.get(m.id)?.by.values().next().value : undefined;
      state.push({ id: m.id, state: m.state, incarnation: m.incarnation, from: raisedBy ?? core.self });
    }
    return state;
  }
}
