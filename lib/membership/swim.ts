/**
 * SWIM membership with Lifeguard: the protocol loop around the pure rules in member.ts,
 * timing.ts, gossip.ts and awareness.ts. Everything outside the process (time, randomness,
 * the network) comes from the injected Env, so the simulator runs this code unchanged.
 *
 * One protocol period: probe the next member of a shuffled round-robin with a ping; no ack
 * within the ping timeout → ask k others to ping it (ping-req), who answer ack or nack; no
 * ack by the end of the period → suspect it. A suspect that does not refute (by raising its
 * incarnation) within the suspicion timeout is declared dead. Every message piggybacks
 * membership updates; a periodic full-state sync with a random member heals what gossip
 * missed.
 */
import type { Config } from "../config.ts";
import { type Env, sendWithTimeout, type TimerHandle } from "../env.ts";
import type { Metrics } from "../metrics.ts";
import { Awareness } from "./awareness.ts";
import { GossipQueue } from "./gossip.ts";
import { isGone, type Member, type MemberState, refutation, supersedes, type Update } from "./member.ts";
import { decodeMessage, encodeMessage, MessageError, type SwimMessage } from "./messages.ts";
import {
  expectedConfirmations,
  pushPullIntervalMs,
  retransmitLimit,
  suspicionMinMs,
  suspicionTimeoutMs,
} from "./timing.ts";

/** The options membership reads; their meaning and defaults are in config.ts. */
export type SwimConfig = Pick<
  Config,
  | "protocolPeriodMs"
  | "pingTimeoutMs"
  | "indirectProbes"
  | "suspicionMult"
  | "suspicionMaxMult"
  | "retransmitMult"
  | "pushPullIntervalMs"
  | "introducers"
>;

export interface MemberView extends Member {
  /** For a suspect: who suspects it, and when the suspicion started here. */
  suspicion?: { by: string[]; since: number; timeoutMs: number };
}

export type MemberListener = (member: Member, previous: MemberState | undefined) => void;

/** Updates piggybacked on one message at most: keeps messages per period flat as N grows. */
const MAX_PIGGYBACK = 24;
/** Gone members remembered so stale gossip cannot bring them back; oldest forgotten first. */
const MAX_GONE_REMEMBERED = 10_000;
const JOIN_BACKOFF_MAX_MS = 30_000;

interface Suspicion {
  incarnation: number;
  by: Set<string>;
  since: number;
  minMs: number;
  maxMs: number;
  expected: number;
  timer: TimerHandle;
}

export type SwimEnv = Pick<Env, "clock" | "random" | "transport" | "log">;

/** The ring epoch each message carries, and what to do on hearing a later one. */
export interface EpochGossip {
  epoch(): number;
  heardEpoch(peer: string, epoch: number): void;
}

const NO_EPOCHS: EpochGossip = { epoch: () => 0, heardEpoch: () => {} };

export class Swim {
  readonly self: string;
  #incarnation = 0;
  #selfState: MemberState = "alive";
  readonly #members = new Map<string, Member>();
  readonly #suspicions = new Map<string, Suspicion>();
  readonly #gossip = new GossipQueue();
  readonly #awareness = new Awareness(8);
  readonly #listeners: MemberListener[] = [];
  #probeOrder: string[] = [];
  #probeIndex = 0;
  readonly #timers = new Set<TimerHandle>();
  #running = false;
  readonly #stats;

  constructor(self: string, readonly config: SwimConfig, readonly env: SwimEnv, metrics: Metrics, readonly epochs: EpochGossip = NO_EPOCHS) {
    this.self = self;
    this.#stats = swimMetrics(metrics, this);
  }

  // --- reading the table ---------------------------------------------------------------

  get incarnation(): number {
    return this.#incarnation;
  }

  get awarenessScore(): number {
    return this.#awareness.score;
  }

  get gossipDepth(): number {
    return this.#gossip.size;
  }

  /** Every member known, self included, sorted by id. */
  members(): MemberView[] {
    const self: MemberView = { id: this.self, state: this.#selfState, incarnation: this.#incarnation, since: 0 };
    const others = [...this.#members.values()].map((m): MemberView => {
      const s = this.#suspicions.get(m.id);
      if (m.state !== "suspect" || !s) return { ...m };
      const timeoutMs = suspicionTimeoutMs(s.minMs, s.maxMs, s.expected, s.by.size - 1);
      return { ...m, suspicion: { by: [...s.by], since: s.since, timeoutMs } };
    });
    return [self, ...others].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** Members alive or suspect, self included: the ones that count toward N. */
  liveCount(): number {
    let n = this.#selfState === "alive" ? 1 : 0;
    for (const m of this.#members.values()) if (!isGone(m.state)) n++;
    return n;
  }

  onChange(listener: MemberListener): void {
    this.#listeners.push(listener);
  }

  // --- lifecycle -----------------------------------------------------------------------

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#schedule(() => this.#probeTick(), this.#jitter(this.config.protocolPeriodMs));
    if (this.config.pushPullIntervalMs > 0) this.#schedule(() => this.#pushPullTick(), this.#nextPushPullMs());
    const introducers = this.config.introducers.filter((a) => a !== this.self);
    if (introducers.length > 0) void this.#join(introducers, 0);
  }

  stop(): void {
    this.#running = false;
    for (const t of this.#timers) this.env.clock.clearTimeout(t);
    this.#timers.clear();
    for (const s of this.#suspicions.values()) this.env.clock.clearTimeout(s.timer);
    this.#suspicions.clear();
  }

  /**
   * Graceful leave: announce `left` with a raised incarnation, push it directly to a few
   * members (gossip spreads it from there), then stop.
   */
  async leave(): Promise<void> {
    if (!this.#running) return;
    this.#incarnation++;
    this.#selfState = "left";
    this.#gossip.enqueue({ id: this.self, state: "left", incarnation: this.#incarnation, from: this.self });
    const peers = this.#randomMembers(retransmitLimit(this.config.retransmitMult, this.liveCount()), (m) => m.state === "alive");
    this.env.log.info("leaving cluster", { told: peers.length });
    await Promise.allSettled(peers.map((p) => this.#ping(p, this.config.pingTimeoutMs * 2)));
    this.stop();
  }

  // --- incoming messages ---------------------------------------------------------------

  /** Handles the body of a POST to `/_swim/{kind}`; resolves to the reply body. */
  async handle(kind: string, body: Uint8Array): Promise<Uint8Array> {
    const message = decodeMessage(body);
    if (message.type !== kind) throw new MessageError(`a ${message.type} message was sent to /_swim/${kind}`);
    this.#stats.received.inc([message.type]);
    this.#stats.receivedBytes.inc([message.type], body.byteLength);
    this.#hearEpoch(message);
    if (message.type !== "sync") this.#absorb(message);

    switch (message.type) {
      case "ping":
        if (message.target !== this.self) throw new MisdirectedError(message.target, this.self);
        return this.#reply("ack");
      case "ping-req": {
        const acked = await this.#ping(message.target, Math.min(message.timeoutMs, this.config.pingTimeoutMs * 4));
        return this.#reply(acked ? "ack" : "nack");
      }
      case "sync":
        this.#merge(message.members, message.join);
        this.#apply({ id: message.from, state: "alive", incarnation: message.incarnation, from: message.from });
        if (message.join) this.env.log.info("member joining", { id: message.from });
        return this.#encode({ type: "sync", from: this.self, incarnation: this.#incarnation, epoch: this.epochs.epoch(), join: false, members: this.#fullState() });
      default:
        throw new MessageError(`/_swim/${kind} does not take ${message.type}`);
    }
  }

  // --- probing -------------------------------------------------------------------------

  #probeTick(): void {
    if (!this.#running) return;
    this.#schedule(() => this.#probeTick(), this.#awareness.scale(this.config.protocolPeriodMs));
    this.#lagCheck(this.#awareness.scale(this.config.protocolPeriodMs));
    const target = this.#nextProbeTarget();
    if (target) void this.#probe(target);
  }

  async #probe(target: string): Promise<void> {
    const member = this.#members.get(target);
    if (!member) return;
    const incarnation = member.incarnation;
    const period = this.#awareness.scale(this.config.protocolPeriodMs);
    const pingTimeout = this.#awareness.scale(this.config.pingTimeoutMs);
    this.#stats.probes.inc();
    if (await this.#ping(target, pingTimeout)) {
      this.#awareness.apply(-1);
      return;
    }
    if (!this.#running) return;

    // Indirect: ask k others; leave them time to answer with a nack before our deadline.
    const helpers = this.#randomMembers(this.config.indirectProbes, (m) => m.state === "alive" && m.id !== target);
    const waitMs = Math.max(1, period - pingTimeout);
    const results = await Promise.all(helpers.map((h) => this.#pingReq(h, target, waitMs)));
    if (!this.#running) return;
    if (results.includes("ack")) return;
    const nacks = results.filter((r) => r === "nack").length;
    // Lifeguard: helpers that did not even nack suggest the trouble is on our side.
    this.#awareness.apply(helpers.length > 0 ? helpers.length - nacks : 1);

    // Suspect it; if it is suspect already, this failed probe is an independent confirmation.
    const current = this.#members.get(target);
    if (current && !isGone(current.state) && current.incarnation === incarnation) {
      if (current.state === "alive") this.env.log.info("member suspect", { id: target, incarnation, helpers: helpers.length, nacks });
      this.#apply({ id: target, state: "suspect", incarnation, from: this.self });
    }
  }

  /** Direct ping; resolves true on an ack within `timeoutMs`. */
  async #ping(target: string, timeoutMs: number): Promise<boolean> {
    const updates = this.#piggyback();
    // Lifeguard's buddy system: a ping to a suspect carries its suspicion, so it can refute
    // at once, even after the gossip about it has stopped travelling (a node paused longer
    // than the retransmissions took would otherwise never hear of it, and be declared dead).
    const member = this.#members.get(target);
    const suspicion = this.#suspicions.get(target);
    if (member?.state === "suspect" && !updates.some((u) => u.id === target)) {
      const from = suspicion?.by.values().next().value ?? this.self;
      updates.push({ id: target, state: "suspect", incarnation: member.incarnation, from });
    }
    const reply = await this.#send(target, { type: "ping", from: this.self, incarnation: this.#incarnation, epoch: this.epochs.epoch(), target, updates }, timeoutMs);
    return reply?.type === "ack";
  }

  async #pingReq(helper: string, target: string, timeoutMs: number): Promise<"ack" | "nack" | "none"> {
    this.#stats.pingReqs.inc();
    const reply = await this.#send(helper, {
      type: "ping-req",
      from: this.self,
      incarnation: this.#incarnation,
      epoch: this.epochs.epoch(),
      target,
      // The helper's own ping must end early enough for its nack to reach us in time.
      timeoutMs: Math.max(1, Math.floor(timeoutMs * 0.8)),
      updates: this.#piggyback(),
    }, timeoutMs);
    if (reply?.type === "ack") return "ack";
    if (reply?.type === "nack") {
      this.#stats.nacks.inc();
      return "nack";
    }
    return "none";
  }

  #nextProbeTarget(): string | undefined {
    for (let tries = 0; tries < 2; tries++) {
      while (this.#probeIndex < this.#probeOrder.length) {
        const id = this.#probeOrder[this.#probeIndex++]!;
        const m = this.#members.get(id);
        if (m && !isGone(m.state)) return id;
      }
      // A full pass done: reshuffle the current membership for the next one.
      this.#probeOrder = this.#shuffle([...this.#members.values()].filter((m) => !isGone(m.state)).map((m) => m.id));
      this.#probeIndex = 0;
    }
    return undefined;
  }

  // --- membership changes --------------------------------------------------------------

  /** The one place an update is applied: table, suspicion timers, gossip, listeners. */
  #apply(update: Update): void {
    if (update.id === this.self) {
      this.#applyAboutSelf(update);
      return;
    }
    const current = this.#members.get(update.id);
    if (update.state === "suspect" && current?.state === "suspect" && update.incarnation === current.incarnation) {
      this.#confirm(update);
      return;
    }
    if (!supersedes(update, current)) return;

    const previous = current?.state;
    const member: Member = { id: update.id, state: update.state, incarnation: update.incarnation, since: this.env.clock.now() };
    this.#members.set(update.id, member);
    this.#gossip.enqueue(update);
    this.#clearSuspicion(update.id);
    if (update.state === "suspect") this.#startSuspicion(update);
    if (!current && !isGone(update.state)) this.#insertIntoProbeOrder(update.id);
    if (previous !== update.state) {
      if (update.state === "dead" || update.state === "left") this.#forgetOldestGone();
      this.#logChange(member, previous);
      for (const listener of this.#listeners) listener(member, previous);
    }
  }

  #applyAboutSelf(update: Update): void {
    if (this.#selfState === "left") return;
    const next = refutation(this.#incarnation, update);
    if (next === undefined) return;
    this.#incarnation = next;
    this.#gossip.enqueue({ id: this.self, state: "alive", incarnation: next, from: this.self });
    if (update.state !== "alive") {
      this.#stats.refutations.inc();
      this.#awareness.apply(1);
      this.env.log.info("refuted", { state: update.state, by: update.from, incarnation: next });
      // Tell the accuser at once (the ping carries the fresh alive first): gossip alone
      // may take several periods, and its suspicion timer is already running.
      if (update.from !== this.self && this.#running) void this.#ping(update.from, this.config.pingTimeoutMs);
    }
  }

  #startSuspicion(update: Update): void {
    const n = this.liveCount();
    const minMs = suspicionMinMs(this.config.suspicionMult, n, this.config.protocolPeriodMs);
    const maxMs = this.config.suspicionMaxMult * minMs;
    const expected = expectedConfirmations(this.config.suspicionMult, n);
    const s: Suspicion = {
      incarnation: update.incarnation,
      by: new Set([update.from]),
      since: this.env.clock.now(),
      minMs,
      maxMs,
      expected,
      timer: undefined,
    };
    this.#suspicions.set(update.id, s);
    this.#stats.suspicions.inc();
    this.#armSuspicion(update.id, s);
  }

  #confirm(update: Update): void {
    const s = this.#suspicions.get(update.id);
    if (!s || s.by.has(update.from)) return;
    s.by.add(update.from);
    // Pass the confirmation on, so that other suspecters' timers shrink too.
    this.#gossip.enqueue(update);
    this.env.clock.clearTimeout(s.timer);
    this.#armSuspicion(update.id, s);
  }

  #armSuspicion(id: string, s: Suspicion): void {
    const timeout = suspicionTimeoutMs(s.minMs, s.maxMs, s.expected, s.by.size - 1);
    const remaining = Math.max(0, s.since + timeout - this.env.clock.now());
    s.timer = this.env.clock.setTimeout(() => void this.#lastChance(id, s), remaining);
  }

  /**
   * The suspicion timed out: one direct ping before declaring it dead. Its refutation may
   * have been lost on the way here (gossip about it stops after a few sends, and with 10%
   * loss some node misses every copy); the ping carries the suspicion, so a live member
   * refutes in its ack. A dead one costs the ping timeout, once.
   */
  async #lastChance(id: string, s: Suspicion): Promise<void> {
    const still = () => {
      const m = this.#members.get(id);
      return this.#running && this.#suspicions.get(id) === s && m?.state === "suspect" && m.incarnation === s.incarnation;
    };
    if (!still()) return;
    const acked = await this.#ping(id, this.config.pingTimeoutMs);
    if (acked || !still()) return;
    this.#apply({ id, state: "dead", incarnation: s.incarnation, from: this.self });
  }

  #clearSuspicion(id: string): void {
    const s = this.#suspicions.get(id);
    if (!s) return;
    this.env.clock.clearTimeout(s.timer);
    this.#suspicions.delete(id);
  }

  /** A message's sender vouches for itself; its piggybacked updates are news. */
  #absorb(message: Exclude<SwimMessage, { type: "sync" }>): void {
    for (const u of message.updates) this.#apply(u);
    const known = this.#members.get(message.from);
    // Its own word that it is alive only introduces a stranger or carries a newer incarnation.
    if (!known || message.incarnation > known.incarnation) {
      this.#apply({ id: message.from, state: "alive", incarnation: message.incarnation, from: message.from });
    }
  }

  /**
   * Full state from another node. A death it reports is only a suspicion here (memberlist's
   * rule: give the member a chance to refute); a leave is the member's own word.
   */
  #merge(members: Update[], joining: boolean): void {
    for (const u of members) {
      if (u.state === "dead" && u.id !== this.self) {
        if (joining) continue;
        this.#apply({ ...u, state: "suspect" });
      } else {
        this.#apply(u);
      }
    }
  }

  #fullState(): Update[] {
    return this.members().map((m) => ({ id: m.id, state: m.state, incarnation: m.incarnation, from: this.self }));
  }

  // --- join and push-pull --------------------------------------------------------------

  async #join(introducers: string[], attempt: number): Promise<void> {
    for (const introducer of introducers) {
      if (!this.#running) return;
      const reply = await this.#send(introducer, this.#syncMessage(true), this.config.protocolPeriodMs * 2);
      if (reply?.type === "sync") {
        this.#merge(reply.members, true);
        this.env.log.info("joined", { via: introducer, members: this.liveCount() });
        return;
      }
      this.env.log.warn("join failed", { via: introducer, attempt: attempt + 1 });
    }
    const backoff = Math.min(JOIN_BACKOFF_MAX_MS, this.config.protocolPeriodMs * 2 ** attempt);
    this.#schedule(() => void this.#join(introducers, attempt + 1), this.#jitter(backoff));
  }

  /**
   * Full-state sync with one random live member, and (Serf's reconnect) with one random
   * member we hold as dead: if it is in fact alive, say across a healed partition, it
   * learns it was declared dead, refutes, and the two sides merge again.
   */
  #pushPullTick(): void {
    if (!this.#running) return;
    this.#schedule(() => this.#pushPullTick(), this.#nextPushPullMs());
    const [peer] = this.#randomMembers(1, (m) => m.state === "alive");
    const [dead] = this.#randomMembers(1, (m) => m.state === "dead");
    for (const target of [peer, dead]) {
      if (!target) continue;
      void this.#send(target, this.#syncMessage(false), this.config.protocolPeriodMs * 2).then((reply) => {
        if (reply?.type === "sync") this.#merge(reply.members, false);
      });
    }
  }

  #syncMessage(join: boolean): SwimMessage {
    return { type: "sync", from: this.self, incarnation: this.#incarnation, epoch: this.epochs.epoch(), join, members: this.#fullState() };
  }

  #nextPushPullMs(): number {
    return this.#jitter(pushPullIntervalMs(this.config.pushPullIntervalMs, this.liveCount()));
  }

  // --- sending -------------------------------------------------------------------------

  /** Sends one message and decodes the reply; undefined on timeout, error or a bad reply. */
  async #send(peer: string, message: SwimMessage, timeoutMs: number): Promise<SwimMessage | undefined> {
    const body = this.#encode(message);
    try {
      const reply = await sendWithTimeout(this.env, peer, `/_swim/${message.type}`, body, timeoutMs);
      if (reply.status !== 200) return undefined;
      const decoded = decodeMessage(reply.body);
      this.#stats.received.inc([decoded.type]);
      this.#stats.receivedBytes.inc([decoded.type], reply.body.byteLength);
      this.#hearEpoch(decoded);
      if (decoded.type === "ack" || decoded.type === "nack") this.#absorb(decoded);
      return decoded;
    } catch {
      return undefined;
    }
  }

  #hearEpoch(message: SwimMessage): void {
    if (message.epoch > this.epochs.epoch()) this.epochs.heardEpoch(message.from, message.epoch);
  }

  #encode(message: SwimMessage): Uint8Array {
    const body = encodeMessage(message);
    this.#stats.sent.inc([message.type]);
    this.#stats.sentBytes.inc([message.type], body.byteLength);
    return body;
  }

  #reply(type: "ack" | "nack"): Uint8Array {
    return this.#encode({ type, from: this.self, incarnation: this.#incarnation, epoch: this.epochs.epoch(), updates: this.#piggyback() });
  }

  #piggyback(): Update[] {
    return this.#gossip.take(MAX_PIGGYBACK, retransmitLimit(this.config.retransmitMult, this.liveCount()));
  }

  // --- helpers -------------------------------------------------------------------------

  #schedule(fn: () => void, ms: number): void {
    const handle = this.env.clock.setTimeout(() => {
      this.#timers.delete(handle);
      fn();
    }, ms);
    this.#timers.add(handle);
  }

  /** Lifeguard: a probe tick that fires late means this node is slow, not its peers. */
  #lastTick: number | undefined;
  #lagCheck(expectedMs: number): void {
    const now = this.env.clock.monotonicMs();
    if (this.#lastTick !== undefined && now - this.#lastTick > expectedMs * 2 + this.config.pingTimeoutMs) {
      this.#awareness.apply(1);
      this.env.log.warn("event loop lag", { lateMs: Math.round(now - this.#lastTick - expectedMs) });
    }
    this.#lastTick = now;
  }

  #randomMembers(count: number, keep: (m: Member) => boolean): string[] {
    const pool = [...this.#members.values()].filter(keep).map((m) => m.id);
    return this.#shuffle(pool).slice(0, count);
  }

  #shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = Math.floor(this.env.random.next() * (i + 1));
      [items[i], items[j]] = [items[j]!, items[i]!];
    }
    return items;
  }

  /** A new member goes to a random place in the remaining order, so it is probed this pass. */
  #insertIntoProbeOrder(id: string): void {
    const from = this.#probeIndex;
    const at = from + Math.floor(this.env.random.next() * (this.#probeOrder.length - from + 1));
    this.#probeOrder.splice(at, 0, id);
  }

  #jitter(ms: number): number {
    return Math.round(ms * (0.9 + 0.2 * this.env.random.next()));
  }

  #forgetOldestGone(): void {
    let gone = 0;
    let oldest: Member | undefined;
    for (const m of this.#members.values()) {
      if (!isGone(m.state)) continue;
      gone++;
      if (!oldest || m.since < oldest.since) oldest = m;
    }
    if (gone > MAX_GONE_REMEMBERED && oldest) this.#members.delete(oldest.id);
  }

  #logChange(member: Member, previous: MemberState | undefined): void {
    const fields = { id: member.id, incarnation: member.incarnation, was: previous ?? "unknown" };
    if (member.state === "dead") this.env.log.warn("member dead", fields);
    else if (member.state !== "suspect") this.env.log.info(`member ${member.state}`, fields);
  }
}

/** A ping addressed to another node reached this one (a restart with a new identity). */
export class MisdirectedError extends Error {
  override name = "MisdirectedError";
  constructor(readonly target: string, readonly self: string) {
    super(`this is ${self}, not ${target}`);
  }
}

function swimMetrics(metrics: Metrics, swim: Swim) {
  metrics.gauge("dht_swim_members", "Members known, by state, self included", () => {
    const counts: Record<MemberState, number> = { alive: 0, suspect: 0, dead: 0, left: 0 };
    for (const m of swim.members()) counts[m.state]++;
    return Object.entries(counts).map(([state, n]) => [{ state }, n]);
  });
  metrics.gauge("dht_swim_gossip_queue_depth", "Membership updates waiting to be piggybacked", () => swim.gossipDepth);
  metrics.gauge("dht_swim_awareness", "Lifeguard local health score (0 is healthy)", () => swim.awarenessScore);
  metrics.gauge("dht_swim_incarnation", "This node's incarnation number", () => swim.incarnation);
  return {
    probes: metrics.counter("dht_swim_probes_total", "Members probed"),
    pingReqs: metrics.counter("dht_swim_ping_reqs_total", "Indirect probes requested"),
    nacks: metrics.counter("dht_swim_nacks_total", "Nacks received from indirect probes"),
    suspicions: metrics.counter("dht_swim_suspicions_total", "Suspicions started here"),
    refutations: metrics.counter("dht_swim_refutations_total", "Suspicions of this node refuted"),
    sent: metrics.counter("dht_swim_messages_sent_total", "SWIM messages sent, by type", ["type"]),
    sentBytes: metrics.counter("dht_swim_bytes_sent_total", "SWIM bytes sent, by type", ["type"]),
    received: metrics.counter("dht_swim_messages_received_total", "SWIM messages received, by type", ["type"]),
    receivedBytes: metrics.counter("dht_swim_bytes_received_total", "SWIM bytes received, by type", ["type"]),
  };
}
