/**
 * Full-state exchanges: joining through introducers, and the periodic push-pull that heals
 * what gossip missed. Both send this node's whole table and merge the one that comes back.
 */
import type { SwimMessage } from "../wire/swim.ts";
import type { Update } from "./member.ts";
import type { SwimCore } from "./swim_core.ts";
import { pushPullIntervalMs } from "./timing.ts";

const JOIN_BACKOFF_MAX_MS = 30_000;

type SyncMessage = Extract<SwimMessage, { type: "sync" }>;

export class StateSync {
  constructor(readonly core: SwimCore) {}

  /** Asks each introducer in turn for its table; retries with backoff until one answers. */
  async join(introducers: string[], attempt = 0): Promise<void> {
    const { core } = this;
    for (const introducer of introducers) {
      if (!core.running) return;
      const reply = await core.send(introducer, this.#message(true), core.config.protocolPeriodMs * 2);
      if (reply?.type === "sync") {
        this.merge(reply.members, true);
        core.env.log.info("joined", { via: introducer, members: core.liveCount() });
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
   */
  pushPullTick(): void {
    const { core } = this;
    if (!core.running) return;
    core.schedule(() => this.pushPullTick(), this.nextPushPullMs());
    const [peer] = core.randomMembers(1, (m) => m.state === "alive");
    const [dead] = core.randomMembers(1, (m) => m.state === "dead");
    for (const target of [peer, dead]) {
      if (!target) continue;
      void core.send(target, this.#message(false), core.config.protocolPeriodMs * 2).then((reply) => {
        if (reply?.type === "sync") this.merge(reply.members, false);
      });
    }
  }

  nextPushPullMs(): number {
    const { core } = this;
    return core.jitter(pushPullIntervalMs(core.config.pushPullIntervalMs, core.liveCount()));
  }

  /** Another node's sync: take its table, vouch for the sender, answer with ours. */
  answer(message: SyncMessage): SyncMessage {
    const { core } = this;
    this.merge(message.members, message.join);
    core.apply({ id: message.from, state: "alive", incarnation: message.incarnation, from: message.from });
    if (message.join) core.env.log.info("member joining", { id: message.from });
    return this.#message(false);
  }

  /**
   * Full state from another node. A death it reports is only a suspicion here (memberlist's
   * rule: give the member a chance to refute); a leave is the member's own word.
   */
  merge(members: Update[], joining: boolean): void {
    const { core } = this;
    for (const u of members) {
      if (u.state === "dead" && u.id !== core.self) {
        if (joining) continue;
        core.apply({ ...u, state: "suspect" });
      } else {
        core.apply(u);
      }
    }
  }

  #message(join: boolean): SyncMessage {
    return { type: "sync", ...this.core.header(), join, members: this.core.fullState() };
  }
}
