/**
 * The loop that moves the ring forward. Every node runs it; only the driver acts: the
 * lowest-id member of the current epoch that SWIM holds alive (and whose address no new
 * process has taken). A driver polls every member's state of play (which also fences
 * them: they take the driver's epoch), asks plan.ts for the next step, and runs Paxos
 * for it. Two drivers at once (a partition, views that differ for a moment) are safe:
 * Paxos decides one value per epoch, and the side without a majority decides nothing.
 *
 * Every node also says hello while it is not a member (so the driver adds it) and while
 * it is leaving (so the driver lets it go).
 */
import type { Env, TimerHandle } from "../env.ts";
import { ringPosition } from "../ring/hash.ts";
import { isGone, type MemberState } from "../membership/member.ts";
import { type Ballot, compareBallots, type PrepareReply, valueToPropose } from "./paxos.ts";
import { type DriverView, nextStep, type QuorumConfig } from "./plan.ts";
import { acceptors, majority, memberKey, type MemberRef, type TopologyState } from "./state.ts";
import type { TopologyMessage, TopologyReply } from "../wire/ring.ts";
import type { Topology } from "./topology.ts";

export interface DriverOptions {
  topology: Topology;
  /** SWIM's view: each known member's state and since when (local ms). */
  members: () => ReadonlyArray<{ id: string; state: MemberState; since: number }>;
  /** Where a node with no ring yet says hello. */
  introducers: readonly string[];
  config: QuorumConfig & { removalDelayMs: number };
  env: Pick<Env, "clock" | "log">;
}

/** How often the driver looks for a step to take, and members say hello. */
export const DRIVER_TICK_MS = 250;
const HELLO_INTERVAL_MS = 1_000;

export class TopologyDriver {
  readonly #o: DriverOptions;
  #timer: TimerHandle | undefined;
  #busy = false;
  #stopped = false;
  #lastHello = -Infinity;
  /** Highest ballot round seen, so the next proposal goes above it. */
  #round = 0;
  /** Ticks to sit out after a lost ballot, so two drivers do not duel forever. */
  #backoff = 0;

  constructor(options: DriverOptions) {
    this.#o = options;
  }

  start(): void {
    this.#schedule();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) this.#o.env.clock.clearTimeout(this.#timer);
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = this.#o.env.clock.setTimeout(() => {
      this.#timer = undefined;
      if (this.#busy) return this.#schedule();
      this.#busy = true;
      void this.#tick().catch((err) => this.#o.env.log.error("topology step failed", { error: String(err) })).finally(() => {
        this.#busy = false;
        this.#schedule();
      });
    }, DRIVER_TICK_MS);
  }

  async #tick(): Promise<void> {
    const { topology } = this.#o;
    await this.#hello();
    if (this.#backoff > 0) {
      this.#backoff--;
      return;
    }
    if (topology.epoch === 0 || this.driver() !== topology.selfKey) return;
    const base = topology.state;
    const view = this.#view(base);
    // Nothing pending: no poll, no messages (a settled cluster costs nothing here).
    const quiet = nextStep(topology.layout, { ...view, fenced: everyone(base), streamed: everyone(base) }, this.#o.config);
    if (base.phase === "stable" && quiet.kind === "wait") return;

    const replies = await this.#poll(base);
    if (topology.state !== base) return; // a later epoch arrived meanwhile
    const fenced = new Set<string>([topology.selfKey]);
    const streamed = new Set<string>(topology.streamed === base.epoch ? [topology.selfKey] : []);
    for (const r of replies) {
      const key = memberKey(r.ref);
      if (r.epoch >= base.epoch) fenced.add(key);
      if (r.streamed === base.epoch) streamed.add(key);
      if (r.leaving) topology.noteLeaving(r.ref.id);
    }
    const step = nextStep(topology.layout, { ...this.#view(base), fenced, streamed }, this.#o.config);
    if (step.kind === "wait") return;
    const decided = await this.#propose(base, step.value);
    if (decided) this.#o.env.log.info("ring epoch decided", { epoch: decided.epoch, phase: decided.phase, why: step.why });
  }

  /** The member key of the driver as this node sees it. */
  driver(): string | undefined {
    const { topology } = this.#o;
    const swim = new Map(this.#o.members().map((m) => [m.id, m.state]));
    const replaced = new Set(topology.candidates().map((c) => c.id));
    const live = acceptors(topology.state).filter((m) => {
      if (memberKey(m) === topology.selfKey) return true;
      const state = swim.get(m.id);
      return state !== undefined && !isGone(state) && !(replaced.has(m.id) && m.id !== topology.self.id);
    });
    live.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : a.nonce < b.nonce ? -1 : 1));
    return live[0] ? memberKey(live[0]) : undefined;
  }

  #view(state: TopologyState): Omit<DriverView, "fenced" | "streamed"> {
    const { topology, config } = this.#o;
    const now = this.#o.env.clock.now();
    const swim = new Map(this.#o.members().map((m) => [m.id, m]));
    const candidates = topology.candidates();
    const removable = new Set<string>();
    for (const m of acceptors(state)) {
      if (memberKey(m) === topology.selfKey) continue;
      const s = swim.get(m.id);
      const dead = s !== undefined && ((s.state === "dead" && now - s.since >= config.removalDelayMs) || s.state === "left");
      const replaced = candidates.some((c) => c.id === m.id && c.nonce !== m.nonce);
      if (dead || replaced) removable.add(memberKey(m));
    }
    const joiners = candidates.filter((c) => {
      const s = swim.get(c.id);
      return c.id === topology.self.id ? c.nonce === topology.self.nonce : s === undefined || !isGone(s.state);
    });
    return { removable, leaving: topology.leavers(), joiners };
  }

  /** Members SWIM holds dead or gone: no answer can come from them, so none is waited for. */
  #silent(): Set<string> {
    return new Set(this.#o.members().filter((m) => isGone(m.state)).map((m) => m.id));
  }

  /** Every other member's state of play, each told our epoch (which fences it). */
  async #poll(state: TopologyState): Promise<TopologyReply[]> {
    const { topology } = this.#o;
    const silent = this.#silent();
    const others = acceptors(state).filter((m) => memberKey(m) !== topology.selfKey && m.id !== topology.self.id && !silent.has(m.id));
    const replies = await Promise.all(others.map((m) => topology.ask(m.id, { type: "status", from: topology.self, state })));
    // Only the process the ring names counts: a restarted one at that address answers with another nonce.
    const wanted = new Set(others.map(memberKey));
    return replies.filter((r): r is TopologyReply => r !== undefined && wanted.has(memberKey(r.ref)));
  }

  /** Single-decree Paxos for the epoch after `base`; resolves to the decided value, if any. */
  async #propose(base: TopologyState, value: TopologyState): Promise<TopologyState | undefined> {
    const { topology } = this.#o;
    const voters = acceptors(base);
    const voterKeys = new Set(voters.map(memberKey));
    const need = majority(voters.length);
    const ballot: Ballot = { round: ++this.#round, by: topology.selfKey };

    const prepares = await this.#askAll(voters, { type: "prepare", from: topology.self, base, ballot });
    if (topology.state !== base) return undefined;
    const promises: PrepareReply[] = [];
    for (const r of prepares) {
      if (!r.prepare || !voterKeys.has(memberKey(r.ref))) continue;
      if (r.prepare.ok) promises.push(r.prepare);
      else this.#saw(r.prepare.promised);
    }
    if (promises.length < need) return this.#lost(`prepare: ${promises.length} of ${need} promises`);

    const chosen = valueToPropose(promises, value);
    const accepts = await this.#askAll(voters, { type: "accept", from: topology.self, base, ballot, value: chosen });
    if (topology.state !== base) return undefined;
    let accepted = 0;
    for (const r of accepts) {
      if (!r.accept || !voterKeys.has(memberKey(r.ref))) continue;
      if (r.accept.ok) accepted++;
      else this.#saw(r.accept.promised);
    }
    if (accepted < need) return this.#lost(`accept: ${accepted} of ${need}`);

    topology.adopt(chosen);
    // Tell everyone of both epochs now; gossip and catch-up reach whoever this misses.
    const told = new Map([...acceptors(base), ...acceptors(chosen)].map((m) => [m.id, m]));
    told.delete(topology.self.id);
    void Promise.all([...told.keys()].map((id) => topology.ask(id, { type: "status", from: topology.self, state: chosen })));
    return chosen;
  }

  /**
   * Sends a message to every voter SWIM does not hold dead, at once (this node's own
   * acceptor answers directly); a dead one's vote could only arrive after its timeout.
   */
  async #askAll(voters: readonly MemberRef[], message: TopologyMessage): Promise<TopologyReply[]> {
    const { topology } = this.#o;
    const silent = this.#silent();
    const replies = await Promise.all(voters.map((m) =>
      memberKey(m) === topology.selfKey ? Promise.resolve(topology.answer(message))
      : m.id === topology.self.id || silent.has(m.id) ? Promise.resolve(undefined)
      : topology.ask(m.id, message)));
    return replies.filter((r): r is TopologyReply => r !== undefined);
  }

  #saw(promised: Ballot | undefined): void {
    if (promised && promised.round > this.#round) this.#round = promised.round;
  }

  #lost(why: string): undefined {
    // Sit out one to four ticks, by our own id, so of two drivers one usually goes first.
    this.#backoff = 1 + Number(ringPosition(this.#o.topology.selfKey) % 4n);
    this.#o.env.log.debug("ring proposal not decided", { why });
    return undefined;
  }

  /** Non-members ask to join; leaving members say so. To every member of the ring, or the introducers. */
  async #hello(): Promise<void> {
    const { topology } = this.#o;
    const now = this.#o.env.clock.monotonicMs();
    if (topology.isMember && !topology.leaving) return;
    if (!topology.isMember && topology.leaving) return;
    if (now - this.#lastHello < HELLO_INTERVAL_MS) return;
    this.#lastHello = now;
    const state = topology.state;
    const targets = state.epoch === 0
      ? [...this.#o.introducers, ...this.#o.members().filter((m) => m.state === "alive").map((m) => m.id)].slice(0, 8)
      : acceptors(state).map((m) => m.id);
    const unique = [...new Set(targets)].filter((id) => id !== topology.self.id);
    const message: TopologyMessage = { type: "hello", from: topology.self, leaving: topology.leaving };
    await Promise.all(unique.map((id) => topology.ask(id, message)));
  }
}

function everyone(state: TopologyState): Set<string> {
  return new Set(acceptors(state).map(memberKey));
}
