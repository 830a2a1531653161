/**
 * What this node has to tell the others: the transmit-limited queue (gossip.ts) whose
 * updates ride on every message it sends, and gossip rounds of its own while that queue
 * holds urgent news.
 *
 * Riding on probes alone, news travels one probe per member per protocol period: a death
 * took several periods to reach every member of 24. memberlist gossips on its own interval
 * as well (3 members every 200 ms). Doing that whenever anything waits would multiply the
 * messages of a forming cluster, whose queues hold an `alive` for every member joining; so a
 * round runs only while an urgent update waits: a member suspect, dead or left, or back from
 * one of those (a refutation must outrun the suspicion it answers). A round pings
 * `gossipNodes` random live members; the ping carries the queue's updates and the ack
 * carries theirs, so no new message is needed. A round's unanswered ping accuses nobody:
 * failure detection is the probe loop's (probe.ts).
 */
import { GossipQueue } from "./gossip.ts";
import { isGone, type MemberState, type Update } from "./member.ts";
import type { Prober } from "./probe.ts";
import type { SwimCore } from "./swim_core.ts";
import { MAX_PIGGYBACK, retransmitLimit } from "./timing.ts";

/** Whether an update is news to spread at once, not only on the next probes. */
export function isUrgent(update: Update, previous: MemberState | undefined): boolean {
  return update.state !== "alive" || (previous !== undefined && previous !== "alive");
}

export class Broadcasts {
  readonly #queue = new GossipQueue();
  #roundsRunning = false;

  constructor(private readonly core: SwimCore, private readonly prober: Prober) {}

  get size(): number {
    return this.#queue.size;
  }

  enqueue(update: Update, urgent: boolean): void {
    this.#queue.enqueue(update, urgent);
    if (urgent) this.#startRounds();
  }

  /** Updates to ride on one outgoing message. */
  piggyback(): Update[] {
    return this.#queue.take(MAX_PIGGYBACK, retransmitLimit(this.core.config.retransmitMult, this.core.liveCount()));
  }

  /** A graceful leave: `left` queued, and pushed at once to as many members as it would be sent to. */
  async announce(left: Update): Promise<number> {
    const { core } = this;
    this.enqueue(left, true);
    const peers = core.randomMembers(retransmitLimit(core.config.retransmitMult, core.liveCount()), (m) => m.state === "alive");
    await Promise.allSettled(peers.map((p) => this.prober.ping(p, core.config.pingTimeoutMs * 2)));
    return peers.length;
  }

  #startRounds(): void {
    if (this.#roundsRunning || this.core.config.gossipIntervalMs === 0 || !this.core.running) return;
    this.#roundsRunning = true;
    this.core.schedule(() => this.#round(), this.core.config.gossipIntervalMs);
  }

  #round(): void {
    const { core } = this;
    if (!core.running || this.#queue.urgent === 0) {
      this.#roundsRunning = false;
      return;
    }
    for (const peer of core.randomMembers(core.config.gossipNodes, (m) => !isGone(m.state))) {
      void this.prober.ping(peer, core.config.pingTimeoutMs);
    }
    core.schedule(() => this.#round(), core.config.gossipIntervalMs);
  }
}
