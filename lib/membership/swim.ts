/**
 * SWIM membership with Lifeguard: the node's own state, the incoming messages and the one
 * place updates are applied. The probe loop is probe.ts, full-state exchanges are
 * state_sync.ts, suspicion timers suspicion.ts, the table's rule table.ts; the pure rules
 * under them are member.ts, timing.ts, gossip.ts and awareness.ts. Everything outside the
 * process (time, randomness, the network) comes from the injected Env, so the simulator
 * runs this code unchanged.
 *
 * Every message piggybacks membership updates; a periodic full-state sync with a random
 * member heals what gossip missed.
 */
import { sendWithTimeout, type TimerHandle } from "../env.ts";
import { MemberEvents } from "../explain/events.ts";
import type { Metrics } from "../metrics.ts";
import { Awareness } from "./awareness.ts";
import { Broadcasts, isUrgent } from "./broadcast.ts";
import { isGone, isReaped, type Member, type MemberState, newsForItself, type Update, withNews, wordOf } from "./member.ts";
import { OwnWord } from "./own_word.ts";
import { MessageError } from "../wire/fields.ts";
import { decodeMessage, encodeMessage, type SwimMessage } from "../wire/swim.ts";
import { Prober } from "./probe.ts";
import { StateSync } from "./state_sync.ts";
import { Suspicions, type SuspicionView } from "./suspicion.ts";
import { type EpochGossip, type Header, MisdirectedError, NO_EPOCHS, type SwimConfig, type SwimCore, type SwimEnv } from "./swim_core.ts";
import { swimMetrics, type SwimStats } from "./swim_metrics.ts";
import { MemberTable } from "./table.ts";
import { observeChange } from "./observe.ts";
export type { EpochGossip, SwimConfig, SwimEnv } from "./swim_core.ts";

export interface MemberView extends Member {
  /** For a suspect: who suspects it, and when the suspicion started here. */
  suspicion?: SuspicionView;
}

export type MemberListener = (member: Member, previous: MemberState | undefined) => void;


export class Swim implements SwimCore {
  readonly self: string;
  readonly table = new MemberTable();
  readonly suspicions: Suspicions;
  readonly awareness = new Awareness(8);
  readonly stats: SwimStats;
  readonly events: MemberEvents;
  readonly own: OwnWord;
  readonly #gossip: Broadcasts;
  readonly #listeners: MemberListener[] = [];
  readonly #timers = new Set<TimerHandle>();
  readonly #prober: Prober;
  readonly #sync: StateSync;
  #running = false;

  constructor(self: string, readonly config: SwimConfig, readonly env: SwimEnv, metrics: Metrics, readonly epochs: EpochGossip = NO_EPOCHS) {
    this.self = self;
    this.own = new OwnWord(self, this.awareness);
    this.stats = swimMetrics(metrics, this);
    this.events = new MemberEvents(env.clock);
    this.suspicions = new Suspicions(config, env.clock, (id, s) => void this.#prober.lastChance(id, s));
    this.#prober = new Prober(this);
    this.#gossip = new Broadcasts(this, this.#prober);
    this.#sync = new StateSync(this);
  }

  // --- reading the table ---------------------------------------------------------------

  get incarnation(): number {
    return this.own.incarnation;
  }

  get awarenessScore(): number {
    return this.awareness.score;
  }

  get gossipDepth(): number {
    return this.#gossip.size;
  }

  get joined(): boolean {
    return this.#sync.joined;
  }

  get running(): boolean {
    return this.#running;
  }

  /** One member as `members()` lists it, self included, found without listing them all; a reaped one too. */
  member(id: string): MemberView | undefined {
    if (id === this.self) return { id, state: this.own.state, incarnation: this.own.incarnation, since: 0 };
    const m = this.table.get(id);
    const suspicion = m?.state === "suspect" ? this.suspicions.view(id) : undefined;
    return m && (suspicion ? { ...m, suspicion } : { ...m });
  }

  /** Every member listed, self included, sorted by id: the gone until they are reaped (`isReaped`). */
  members(): MemberView[] {
    const now = this.env.clock.now();
    return [this.self, ...this.table.ids((m) => !isReaped(m, now, this.config.reapAfterMs))].sort().map((id) => this.member(id)!);
  }

  liveCount(): number {
    return (this.own.state === "alive" ? 1 : 0) + this.table.liveCount();
  }

  onChange(listener: MemberListener): void {
    this.#listeners.push(listener);
  }

  // --- lifecycle -----------------------------------------------------------------------

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.schedule(() => this.#prober.tick(), this.jitter(this.config.protocolPeriodMs));
    if (this.config.pushPullIntervalMs > 0) this.#sync.schedulePushPull(this.#sync.nextPushPullMs());
    const introducers = this.config.introducers.filter((a) => a !== this.self);
    if (introducers.length > 0) void this.#sync.join(introducers);
    else this.#sync.joined = true;
  }

  stop(): void {
    this.#running = false;
    for (const t of this.#timers) this.env.clock.clearTimeout(t);
    this.#timers.clear();
    this.suspicions.clearAll();
  }

  /**
   * Graceful leave: announce `left` with a raised incarnation, push it directly to a few
   * members (gossip spreads it from there), then stop.
   */
  async leave(): Promise<void> {
    if (!this.#running) return;
    const told = await this.#gossip.announce(this.own.leave());
    this.env.log.info("leaving cluster", { told });
    this.stop();
  }

  // --- incoming messages ---------------------------------------------------------------

  /** Handles the body of a POST to `/_swim/{kind}`; resolves to the reply body. */
  async handle(kind: string, body: Uint8Array): Promise<Uint8Array> {
    const message = decodeMessage(body);
    if (message.type !== kind) throw new MessageError(`a ${message.type} message was sent to /_swim/${kind}`);
    // A ping meant for another member (an old address, a stray) teaches nothing.
    if (message.type === "ping" && message.target !== this.self) throw new MisdirectedError(message.target, this.self);
    this.#received(message, body.byteLength);
    if (message.type !== "sync") this.#absorb(message);

    switch (message.type) {
      case "ping":
        return this.#reply("ack", message.from);
      case "ping-req":
        return this.#reply(await this.#prober.pingFor(message.target, message.timeoutMs), message.from, message.target);
      case "sync":
        return this.#encode(this.#sync.answer(message));
      default:
        throw new MessageError(`/_swim/${kind} does not take ${message.type}`);
    }
  }

  // --- membership changes --------------------------------------------------------------

  apply(update: Update, fromFullState = false): void {
    if (update.id === this.self) {
      this.#applyAboutSelf(update);
      return;
    }
    const t = this.table.apply(update, this.env.clock.now());
    if (t.kind === "confirm") {
      // Pass the confirmation on, so that other suspecters' timers shrink too.
      if (this.suspicions.confirm(update)) {
        this.#gossip.enqueue(update, true);
        const view = this.suspicions.view(update.id)!;
        this.events.record(update.id, "confirmed", { by: update.from, incarnation: update.incarnation, suspecters: view.by.length, timeoutMs: view.timeoutMs });
      }
      return;
    }
    if (t.kind === "none") return;
    if (t.kind === "full") return this.stats.membersRefused.inc();
    const { member, previous, isNew } = t;
    // A member first heard of in another node's full table is known there already: no news to gossip.
    if (!(fromFullState && isNew)) this.#gossip.enqueue(update, isUrgent(update, previous));
    this.suspicions.clear(update.id);
    if (update.state === "suspect") {
      this.suspicions.start(update, this.liveCount());
      this.stats.suspicions.inc();
    }
    if (isNew && !isGone(update.state)) this.#prober.insert(update.id);
    if (previous !== update.state) {
      observeChange(this.env.log, this.events, update, member, previous, isNew, this.suspicions.view(update.id));
      for (const listener of this.#listeners) listener(member, previous);
    }
  }

  #applyAboutSelf(update: Update, heard = this.own.hear(update, this.env.clock.monotonicMs())): void {
    if (heard.kind === "hold") {
      this.events.record(this.self, "accusation held", { state: update.state, by: update.from, incarnation: update.incarnation, awareness: this.awareness.score });
      if (heard.first) this.env.log.warn("holding an accusation: not refuting while its own links are not sound", { state: update.state, by: update.from, awareness: this.awareness.score });
      return;
    }
    if (heard.kind !== "refute") return;
    this.#gossip.enqueue(heard.alive, update.state !== "alive");
    if (update.state !== "alive") {
      this.stats.refutations.inc();
      this.awareness.apply(1);
      this.env.log.info("refuted", { state: update.state, by: update.from, incarnation: heard.alive.incarnation });
      // Tell the accuser at once (the ping carries the fresh alive first): gossip alone
      // may take several periods, and its suspicion timer is already running.
      if (update.from !== this.self && this.#running) void this.#prober.ping(update.from, this.config.pingTimeoutMs);
    }
  }

  wellAgain(): void {
    const held = this.own.held;
    const heard = this.own.wellAgain(this.env.clock.monotonicMs());
    if (held && heard) this.#applyAboutSelf(held, heard);
  }

  /** A message's sender vouches for itself; its piggybacked updates are news. */
  #absorb(message: Exclude<SwimMessage, { type: "sync" }>): void {
    for (const u of message.updates) this.apply(u);
    const known = this.table.get(message.from);
    // Its own word that it is alive only introduces a stranger or carries a newer incarnation.
    if (!known || message.incarnation > known.incarnation) {
      this.apply({ id: message.from, state: "alive", incarnation: message.incarnation, from: message.from });
    }
  }

  selfUpdate(): Update {
    return this.own.update();
  }

  // --- sending -------------------------------------------------------------------------

  header(): Header {
    return { from: this.self, incarnation: this.own.incarnation, epoch: this.epochs.epoch() };
  }

  async send(peer: string, message: SwimMessage, timeoutMs: number): Promise<SwimMessage | undefined> {
    const body = this.#encode(message);
    try {
      const reply = await sendWithTimeout(this.env, peer, `/_swim/${message.type}`, body, timeoutMs);
      if (reply.status !== 200) return undefined;
      const decoded = decodeMessage(reply.body);
      this.#received(decoded, reply.body.byteLength);
      if (decoded.type === "ack" || decoded.type === "nack") this.#absorb(decoded);
      return decoded;
    } catch {
      return undefined;
    }
  }

  piggyback(): Update[] {
    return this.#gossip.piggyback();
  }

  #received(message: SwimMessage, bytes: number): void {
    this.stats.received.inc([message.type]);
    this.stats.receivedBytes.inc([message.type], bytes);
    if (message.epoch > this.epochs.epoch()) this.epochs.heardEpoch(message.from, message.epoch);
  }

  #encode(message: SwimMessage): Uint8Array {
    const body = encodeMessage(message);
    this.stats.sent.inc([message.type]);
    this.stats.sentBytes.inc([message.type], body.byteLength);
    return body;
  }

  /**
   * An ack or nack to `to`, first telling a sender held dead or suspect here so (it has come
   * back: a healed partition, a one-way link). The ack to a ping-req passes on the word of
   * the `target` it reached (member.ts `wordOf`); an "unsure" nack says this node missed it
   * while in doubt of its own links (probe.ts `pingFor`).
   */
  #reply(answer: "ack" | "nack" | "unsure", to: string, target?: string): Uint8Array {
    const updates = withNews(this.piggyback(), newsForItself(this.table.get(to), this.self));
    if (answer !== "ack") return this.#encode({ type: "nack", ...this.header(), updates, ...(answer === "unsure" ? { unsure: true } : {}) });
    if (target !== undefined) withNews(updates, wordOf(this.table.get(target), this.self));
    return this.#encode({ type: "ack", ...this.header(), updates });
  }

  // --- helpers -------------------------------------------------------------------------

  schedule(fn: () => void, ms: number): void {
    const handle = this.env.clock.setTimeout(() => {
      this.#timers.delete(handle);
      fn();
    }, ms);
    this.#timers.add(handle);
  }

  randomMembers(count: number, keep: (m: Member) => boolean): string[] {
    return this.table.sample(count, keep, () => this.env.random.next());
  }

  jitter(ms: number): number {
    return Math.round(ms * (0.9 + 0.2 * this.env.random.next()));
  }
}
