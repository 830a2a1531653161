/**
 * The loop that moves the ring forward. Every node runs it; only the driver acts: the
 * lowest-id member of the current epoch that SWIM holds alive (and whose address no new
 * process has taken). A driver polls the state of play of the owners whose ranges the
 * next step moves (which also fences them: they take the driver's epoch), asks plan.ts
 * for the next step, and runs Paxos for it (with the council: council.ts). Two drivers at
 * once (a partition, views that differ for a moment) are safe: Paxos decides one value
 * per epoch, and the side without a majority of the acceptors decides nothing.
 *
 * Every node also says hello while it is not a member (so the driver adds it: to the few
 * members first in line to drive) and while it is leaving (so the driver lets it go: to
 * every member).
 *
 * Nothing that never answers can hold the ring: an owner silent to the driver's poll, or
 * unreachable to its streamers, past a patience counts as gone (silence.ts; plan.ts drops
 * it from a transition's new owners, and pins the few ranges that cannot move without it).
 */
import type { Env } from "../env.ts";
import { isGone, type MemberState } from "../membership/member.ts";
import { wantsNewCouncil } from "./council.ts";
import { helloTargets } from "./hellos.ts";
import { Silence } from "./silence.ts";
import { gatheringJoiners } from "./join_batch.ts";
import { type Acks, ackInputs, KeptVerdict, viewInputs } from "./verdict_inputs.ts";
import { Proposer } from "./proposer.ts";
import { type DriverView, nextStep, type QuorumConfig, type Step } from "./plan.ts";
import { lowestMembers, memberKey, type MemberRef, owners, type TopologyState } from "./state.ts";
import type { TopologyMessage, TopologyReply } from "../wire/ring.ts";
import type { Topology } from "./topology.ts";
import { type LoopState, PacedLoop } from "./tick_pace.ts";

export interface DriverOptions {
  topology: Topology;
  /** SWIM's view: each known member's state and since when (local ms). */
  members: () => ReadonlyArray<{ id: string; state: MemberState; since: number }>;
  /** One member's entry of that view, found without listing them all (the driver asks every tick). */
  member: (id: string) => { state: MemberState; since: number } | undefined;
  /** Where a node with no ring yet says hello. */
  introducers: readonly string[];
  config: QuorumConfig & { removalDelayMs: number };
  env: Pick<Env, "clock" | "log">;
  /** The planner (tests pass another to show what per-range steps prevent). */
  plan?: (layout: Topology["layout"], view: DriverView, quorum: QuorumConfig) => Step;
}

const HELLO_INTERVAL_MS = 1_000;
/** How long the driver's poll waits for an owner SWIM holds dead (an answer means it is alive after all). */
const DEAD_POLL_TIMEOUT_MS = 250;

export class TopologyDriver {
  readonly #o: DriverOptions;
  readonly #loop: PacedLoop;
  /** Whether the last tick found nothing to do (not the driver, or a stable ring that needs nothing). */
  #idle = false;
  #lastHello = -Infinity;
  readonly #proposer: Proposer;
  /** Ticks to sit out after a lost ballot, so two drivers do not duel forever. */
  #backoff = 0;
  /** Who counts as gone for not answering. */
  readonly #silence = new Silence();
  /** What the last tick found: the step it proposed, or why it waits. */
  #reason = "not the driver";
  /** What the next step needs before any owner acknowledged anything: the same inputs give the same verdict. */
  readonly #needs = new KeptVerdict();
  /** The same for the verdict on what the owners have done. */
  readonly #polled = new KeptVerdict();
  /** What the owners have acknowledged of the current epoch, over the polls so far. */
  #acks?: Acks;

  constructor(options: DriverOptions) {
    this.#o = options;
    this.#proposer = new Proposer(options.topology, options.env.log, (id) => this.#silent(id), this.#usable);
    options.topology.nextChange = () => this.#reason;
    this.#loop = new PacedLoop(options.env.clock, () => this.#tick().catch((err) => options.env.log.error("topology step failed", { error: String(err) })), () => this.#loopState());
    options.topology.nudge = () => this.wake();
    options.topology.onChange(() => this.wake());
  }

  /** News the loop acts on (an epoch, a member's SWIM state, a hello, a leave): the next tick comes at the usual pace. */
  wake(): void {
    this.#loop.wake();
  }

  start(): void {
    this.#loop.start();
  }

  stop(): void {
    this.#loop.stop();
  }

  /** How many times the loop has looked for a step since it started. */
  get ticks(): number {
    return this.#loop.ticks;
  }

  #loopState(): Omit<LoopState, "woken"> {
    const { topology, member } = this.#o;
    const state = topology.state;
    return {
      idle: this.#idle, backoff: this.#backoff, phase: state.phase, staying: topology.isMember && !topology.leaving,
      candidates: topology.candidates().length, leavers: topology.leavers().size,
      ownersAlive: owners(state).every((m) => memberKey(m) === topology.selfKey || member(m.id)?.state === "alive"),
    };
  }

  async #tick(): Promise<void> {
    const { topology } = this.#o;
    this.#idle = false;
    await this.#hello();
    if (this.#backoff > 0) {
      this.#backoff--;
      return;
    }
    const driver = this.driver();
    if (topology.epoch === 0 || !driver || memberKey(driver) !== topology.selfKey) {
      this.#reason = topology.epoch === 0 ? "this node has no ring yet" : "not the driver";
      this.#idle = topology.epoch > 0;
      return;
    }
    const base = topology.state;
    if (wantsNewCouncil(base, this.#usable)) return this.#decide(base, { ...base, epoch: base.epoch + 1 }, "a new council: one more loss would cost it its majority, or more seats can be filled");
    const plan = this.#o.plan ?? ((layout, view, quorum) => nextStep(layout, view, quorum));
    // What the next step needs before any owner has done its part: nothing (no poll, no
    // messages: a settled cluster costs nothing here), or the owners of the ranges it moves,
    // the only ones polled. The planner judges every range (vnodes x members), so a verdict
    // is kept while the ring and the view it was made from stay the same.
    const view = this.#view(base);
    const needs = this.#needs.of(base, viewInputs(view), () => plan(topology.layout, { ...view, fenced: new Set(), streamed: new Map() }, this.#o.config));
    if (base.phase === "stable" && needs.kind === "wait" && !needs.waitingFor?.length) {
      this.#silence.nobodyAsked(this.#o.env.clock.monotonicMs());
      this.#reason = view.gathering > 0 ? `gathering joiners: ${view.gathering} asking so far` : needs.reason;
      this.#idle = view.gathering === 0;
      return;
    }

    if (this.#acks?.base !== base) this.#acks = { base, fenced: new Set(), streamed: new Map(), waitingFor: [] };
    const acks = this.#acks;
    const wanted = new Set([...(needs.kind === "wait" ? needs.waitingFor ?? [] : []), ...acks.waitingFor]);
    const replies = await this.#poll(base, acks, wanted);
    if (topology.state !== base) return; // a later epoch arrived meanwhile
    const heard = new Set<string>([topology.selfKey]);
    for (const r of replies) {
      const key = memberKey(r.ref);
      heard.add(key);
      if (r.epoch >= base.epoch) acks.fenced.add(key);
      if (r.streamed === base.epoch) acks.streamed.set(key, new Set(r.unreached ?? []));
      if (r.leaving) topology.hellos.noteLeaving(r.ref.id);
    }
    const fenced = new Set([...acks.fenced, topology.selfKey]);
    const streamed = new Map(acks.streamed);
    if (topology.streamed === base.epoch) streamed.set(topology.selfKey, new Set(topology.unreached));
    const unreached = new Set([...streamed.values()].flatMap((ids) => [...ids]));
    this.#silence.reported(owners(base).map((m) => ({ key: memberKey(m), id: m.id })), unreached, this.#o.env.clock.monotonicMs());
    // An owner that answered is alive, whatever SWIM says yet (a healed partition): never removed for it.
    const polled = this.#view(base, heard);
    // A poll that brought no news leaves the verdict as it was: no need to judge every range again.
    const step = this.#polled.of(base, `${viewInputs(polled)}|${ackInputs(fenced, streamed)}`, () => plan(topology.layout, { ...polled, fenced, streamed }, this.#o.config));
    if (step.kind === "wait") {
      this.#reason = step.reason;
      acks.waitingFor = step.waitingFor ?? [];
      return;
    }
    await this.#decide(base, step.value, step.why);
  }

  async #decide(base: TopologyState, value: TopologyState, why: string): Promise<void> {
    this.#reason = `deciding epoch ${base.epoch + 1}: ${why}`;
    const result = await this.#proposer.decide(base, value);
    if ("decided" in result) {
      const { decided } = result;
      this.#o.env.log.info("ring epoch decided", { epoch: decided.epoch, phase: decided.phase, why, pins: decided.pins.length });
    } else if (this.#o.topology.state === base) {
      this.#backoff = this.#proposer.backoffTicks;
    }
  }

  /** What the ring's next change waits for, as this node's driver loop last saw it. */
  get reason(): string {
    return this.#reason;
  }

  /** Runs Paxos for `value` as the epoch after `base` (an operator's recovery). */
  decide(base: TopologyState, value: TopologyState): ReturnType<Proposer["decide"]> {
    return this.#proposer.decide(base, value);
  }

  /** The driver as this node sees it: the lowest-id member that SWIM holds alive. */
  driver(): MemberRef | undefined {
    const { topology } = this.#o;
    const replaced = new Set(topology.candidates().map((c) => c.id));
    const live = (m: MemberRef) => {
      if (memberKey(m) === topology.selfKey) return true;
      const state = this.#o.member(m.id)?.state;
      return state !== undefined && !isGone(state) && !(replaced.has(m.id) && m.id !== topology.self.id);
    };
    return lowestMembers(topology.state, live, 1)[0];
  }

  /** What the planner is to judge; `gathering`: joiners held back to come in with the rest of their crowd. */
  #view(state: TopologyState, answered: ReadonlySet<string> = new Set()): Omit<DriverView, "fenced" | "streamed"> & { gathering: number } {
    const { topology, config } = this.#o;
    const now = Math.floor(this.#o.env.clock.now());
    const monotonic = this.#o.env.clock.monotonicMs();
    const { member } = this.#o;
    const candidates = topology.candidates();
    const removable = new Set<string>();
    for (const m of owners(state)) {
      if (memberKey(m) === topology.selfKey) continue;
      const s = member(m.id);
      const dead = s !== undefined && ((s.state === "dead" && now - s.since >= config.removalDelayMs) || s.state === "left");
      const replaced = candidates.some((c) => c.id === m.id && c.nonce !== m.nonce);
      if ((dead && !answered.has(memberKey(m))) || replaced) removable.add(memberKey(m));
    }
    const gone = new Set([...removable, ...this.#silence.gone(monotonic)]);
    // A joiner must be alive in SWIM at the address it claims: a hello alone proves nothing.
    const isAlive = (c: MemberRef) => c.id === topology.self.id ? c.nonce === topology.self.nonce : member(c.id)?.state === "alive";
    const owning = candidates.length === 0 ? new Set<string>() : new Set(owners(state).map(memberKey));
    const asking = candidates.filter((c) => !gone.has(memberKey(c)) && !owning.has(memberKey(c)));
    const since = (c: MemberRef) => topology.hellos.askingSince(c) ?? monotonic;
    const gathering = gatheringJoiners(asking.map((c) => ({ since: since(c), alive: isAlive(c) })), monotonic);
    const joiners = gathering ? [] : asking.filter(isAlive);
    return { removable, gone, leaving: topology.leavers(), joiners, now, gathering: gathering ? asking.length : 0 };
  }

  /** Whether a member may sit on a council: SWIM does not hold it gone, and it is not leaving. */
  readonly #usable = (m: MemberRef): boolean => !this.#silent(m.id) && !this.#o.topology.leavers().has(m.id);

  /** Whether SWIM holds a member dead or left (reaped or not): no answer can come from it, so none is waited for. */
  #silent(id: string): boolean {
    const state = this.#o.member(id)?.state;
    return state !== undefined && isGone(state);
  }

  /**
   * The state of play of the owners in `wanted` (member keys), each told our epoch (which
   * fences it); notes who stays silent. What an owner acknowledged stays acknowledged for
   * this epoch (its epoch never goes back), so only those yet to acknowledge all of it are
   * asked again: one lost message costs a tick, not the whole poll. Owners SWIM holds dead
   * are asked every time, briefly: one that answers is alive.
   */
  async #poll(state: TopologyState, acks: Acks, wanted: ReadonlySet<string>): Promise<TopologyReply[]> {
    const { topology } = this.#o;
    const done = (key: string) => acks.fenced.has(key) && acks.streamed.get(key)?.size === 0;
    const asked = (m: MemberRef) => this.#silent(m.id) || (wanted.has(memberKey(m)) && !done(memberKey(m)));
    const others = owners(state).filter((m) => memberKey(m) !== topology.selfKey && m.id !== topology.self.id && asked(m));
    const dead = new Set(others.filter((m) => this.#silent(m.id)).map(memberKey));
    const status: TopologyMessage = { type: "status", from: topology.self, state };
    const replies = await Promise.all(others.map((m) => topology.ask(m.id, status, dead.has(memberKey(m)) ? DEAD_POLL_TIMEOUT_MS : undefined)));
    // Only the process the ring names counts: a restarted one at that address answers with another nonce.
    const named = new Set(others.map(memberKey));
    const answered = replies.filter((r): r is TopologyReply => r !== undefined && named.has(memberKey(r.ref)));
    const heard = new Set(answered.map((r) => memberKey(r.ref)));
    this.#silence.polled(named, heard, (key) => !dead.has(key), this.#o.env.clock.monotonicMs());
    return answered;
  }

  /** Non-members ask to join; leaving members say so. To the members in line to drive, every member, or the introducers. */
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
      : helloTargets(state, topology.self.id, topology.leaving, (id) => this.#o.member(id)?.state === "alive");
    const unique = [...new Set(targets)].filter((id) => id !== topology.self.id);
    const message: TopologyMessage = { type: "hello", from: topology.self, leaving: topology.leaving };
    await Promise.all(unique.map((id) => topology.ask(id, message)));
  }
}
