/**
 * The failure detector's loop. One protocol period: probe the next member of a shuffled
 * round-robin with a ping; no ack within the ping timeout → ask k others to ping it
 * (ping-req), who answer ack or nack; no ack by the end of the period, and a nack from
 * some helper (or no helper to ask) → suspect it. A suspicion that times out gets one last
 * direct ping before the member is declared dead. Lifeguard stretches every period and
 * timeout by the local health score.
 */
import { shuffle } from "../env.ts";
import { isGone, newsForItself, withNews } from "./member.ts";
import type { Suspicion } from "./suspicion.ts";
import type { SwimCore } from "./swim_core.ts";

/** What a helper asked to ping a member (ping-req) answered: "unsure" is a nack that accuses nobody (`pingFor`), "none" is silence. */
type HelperAnswer = "ack" | "nack" | "unsure" | "none";

/** Periods between pings to a member held dead, while most members are held alive. */
export const RECONNECT_EVERY = 10;

export class Prober {
  #order: string[] = [];
  #index = 0;
  #lastTick: number | undefined;
  #sinceReconnect = 0;

  constructor(readonly core: SwimCore) {}

  tick(): void {
    const { core } = this;
    if (!core.running) return;
    const unwell = core.awareness.unwell;
    const period = unwell ? core.config.protocolPeriodMs : core.awareness.scale(core.config.protocolPeriodMs);
    core.schedule(() => this.tick(), period);
    this.#lagCheck(period);
    core.wellAgain();
    if (unwell) {
      void this.#checkHealth();
    } else {
      const target = this.#nextTarget();
      if (target) void this.probe(target);
    }
    this.#reconnect();
  }

  /**
   * Unwell (awareness.ts), this node accuses nobody (see probe), so it checks its own links
   * instead of probing: a direct ping to k members each period, at the plain period and
   * timeout, each answer taking 1 off its score and each miss adding 1. A healed link is
   * well again within two periods (and refutes what it held: own_word.ts); one that loses
   * 80% each way stays unwell.
   */
  async #checkHealth(): Promise<void> {
    const { core } = this;
    const peers = core.randomMembers(Math.max(1, core.config.indirectProbes), (m) => m.state === "alive");
    const answered = await Promise.all(peers.map((p) => this.ping(p, core.config.pingTimeoutMs)));
    if (!core.running) return;
    for (const a of answered) core.awareness.apply(a ? -1 : 1);
  }

  /**
   * A member held dead may be alive after all (a partition healed, a one-way link came
   * back): ping one now and then, with its death in the ping, so a live one refutes at
   * once. Every period while this node holds at least as many members dead as alive (it is
   * most likely the one that was cut off), every RECONNECT_EVERY periods otherwise.
   */
  #reconnect(): void {
    const { core } = this;
    const dead = core.table.ids((m) => m.state === "dead");
    if (dead.length === 0) return;
    this.#sinceReconnect++;
    if (dead.length < core.liveCount() && this.#sinceReconnect < RECONNECT_EVERY) return;
    this.#sinceReconnect = 0;
    const target = dead[Math.floor(core.env.random.next() * dead.length)]!;
    void this.ping(target, core.awareness.scale(core.config.pingTimeoutMs));
  }

  async probe(target: string): Promise<void> {
    const { core } = this;
    const member = core.table.get(target);
    if (!member) return;
    const incarnation = member.incarnation;
    const period = core.awareness.scale(core.config.protocolPeriodMs);
    const pingTimeout = core.awareness.scale(core.config.pingTimeoutMs);
    core.stats.probes.inc();
    if (await this.ping(target, pingTimeout)) {
      core.awareness.apply(-1);
      return;
    }
    if (!core.running) return;
    core.events.record(target, "probe failed", { by: core.self, timeoutMs: pingTimeout });

    // Indirect: ask k others; leave them time to answer with a nack before our deadline.
    const { helpers, results } = await this.#indirect(target, Math.max(1, period - pingTimeout));
    if (!core.running || results.includes("ack")) return;
    const nacks = results.filter((r) => r === "nack").length;
    const unsure = results.filter((r) => r === "unsure").length;
    // Lifeguard: helpers that did not even nack suggest the trouble is on our side.
    core.awareness.apply(helpers.length > 0 ? helpers.length - nacks - unsure : 1);
    // Nor a suspicion on that alone: a nack is a member sure of its links that reached us
    // but not the target, while silence from every helper is the mark of this node's own
    // links. An unwell node accuses nobody, as it refutes nothing (Rapid's lossy test;
    // own_word.ts), nor does a joiner not yet answered, which may know no helper to ask.
    if ((helpers.length > 0 && nacks === 0) || core.awareness.unwell || !core.joined) return;

    // Suspect it; if it is suspect already, this failed probe is an independent confirmation.
    const current = core.table.get(target);
    if (current && !isGone(current.state) && current.incarnation === incarnation) {
      if (current.state === "alive") core.env.log.info("member suspect", { id: target, incarnation, helpers: helpers.length, nacks });
      core.apply({ id: target, state: "suspect", incarnation, from: core.self });
    }
  }

  /** Direct ping; resolves true on an ack within `timeoutMs`. */
  async ping(target: string, timeoutMs: number): Promise<boolean> {
    const { core } = this;
    const updates = core.piggyback();
    // Lifeguard's buddy system: a ping to a suspect carries its suspicion, so it can refute
    // at once, even after the gossip about it has stopped travelling (a node paused longer
    // than the retransmissions took would otherwise never hear of it, and be declared dead).
    // A ping to a member held dead carries its death, for the same reason.
    const suspecter = core.suspicions.get(target)?.by.values().next().value;
    withNews(updates, newsForItself(core.table.get(target), suspecter ?? core.self));
    const reply = await core.send(target, { type: "ping", ...core.header(), target, updates }, timeoutMs);
    return reply?.type === "ack";
  }

  /**
   * The suspicion timed out: one last check before declaring it dead, a direct ping and, at
   * the same time, k others' (so a dead member costs the ping timeout, once). Its
   * refutation may have been lost on the way here: gossip about it stops after a few sends,
   * and with 10% loss some node misses every copy. The ping carries the suspicion, so a
   * live member refutes in its ack; a helper's ack carries the word it just had from the
   * member (member.ts `wordOf`), so one that is alive but hard to reach from here refutes
   * through it. An ack of either kind, even without a refutation, spares the member for
   * another timeout. A check that would only hold the suspicion again (`holds`) asks no
   * helpers: an unwell member holding others' suspicions would otherwise send k more
   * messages every timeout.
   */
  async lastChance(id: string, s: Suspicion): Promise<void> {
    const { core } = this;
    const still = () => {
      const m = core.table.get(id);
      return core.running && core.suspicions.get(id) === s && m?.state === "suspect" && m.incarnation === s.incarnation;
    };
    if (!still()) return;
    const timeoutMs = core.config.pingTimeoutMs;
    const indirect = this.#holds(s) ? { results: [] as HelperAnswer[] } : this.#indirect(id, timeoutMs);
    const [acked, { results }] = await Promise.all([this.ping(id, timeoutMs), indirect]);
    core.events.record(id, "last ping", { by: core.self, acked, afterMs: core.env.clock.now() - s.since });
    if (!still()) return; // refuted, in an ack or otherwise
    // Answered but not refuted: the member has not heard of the suspicion yet, or holds it
    // itself while unwell (own_word.ts). Either way it is checked again after another
    // timeout, not left suspect here until other news comes.
    const answered = acked || results.includes("ack");
    if (answered || this.#holds(s)) {
      core.events.record(id, "suspicion held", { by: core.self, awareness: core.awareness.score, answered });
      core.suspicions.restart(id, s);
      return;
    }
    core.apply({ id, state: "dead", incarnation: s.incarnation, from: core.self });
  }

  /**
   * Lifeguard's local health, one step further: a node that is unwell (awareness.ts), or is
   * at all unsure of its links (it missed a nack, had to refute) and whose suspicion no
   * other member has confirmed where others could, is more likely wrong than the member is:
   * it may have missed the refutation. Its failed last check holds the suspicion and waits
   * again rather than declare a death (Rapid's lossy-member test).
   */
  #holds(s: Suspicion): boolean {
    const { awareness, self } = this.core;
    const alone = s.by.size === 1 && s.by.has(self);
    return s.expected > 0 && (awareness.unwell || (alone && awareness.score > 0));
  }

  /** A new member goes to a random place in the remaining order, so it is probed this pass. */
  insert(id: string): void {
    const from = this.#index;
    const at = from + Math.floor(this.core.env.random.next() * (this.#order.length - from + 1));
    this.#order.splice(at, 0, id);
  }

  /**
   * A ping on another member's behalf (its ping-req). A miss is a nack, which lets the asker
   * suspect the target; "unsure" while this node's own links are in doubt (its score above
   * 0): a member on a lossy link misses most of its pings, and nacks from such helpers had
   * healthy members suspected (SEED=606 of tests/sim/unsound_links.test.ts).
   */
  async pingFor(target: string, timeoutMs: number): Promise<"ack" | "nack" | "unsure"> {
    const { core } = this;
    if (await this.ping(target, Math.min(timeoutMs, core.config.pingTimeoutMs * 4))) return "ack";
    return core.awareness.score > 0 ? "unsure" : "nack";
  }

  /** Asks k other live members to ping `target` within `waitMs`; records what each answered. */
  async #indirect(target: string, waitMs: number): Promise<{ helpers: string[]; results: HelperAnswer[] }> {
    const { core } = this;
    const helpers = core.randomMembers(core.config.indirectProbes, (m) => m.state === "alive" && m.id !== target);
    const results = await Promise.all(helpers.map((h) => this.#pingReq(h, target, waitMs)));
    const answered = (kind: string) => helpers.filter((_, i) => results[i] === kind);
    if (core.running) core.events.record(target, "indirect probe", { by: core.self, asked: helpers, acked: answered("ack"), nacked: answered("nack"), unsure: answered("unsure"), silent: answered("none") });
    return { helpers, results };
  }

  async #pingReq(helper: string, target: string, timeoutMs: number): Promise<HelperAnswer> {
    const { core } = this;
    core.stats.pingReqs.inc();
    const reply = await core.send(helper, {
      type: "ping-req",
      ...core.header(),
      target,
      // The helper's own ping must end early enough for its nack to reach us in time.
      timeoutMs: Math.max(1, Math.floor(timeoutMs * 0.8)),
      updates: core.piggyback(),
    }, timeoutMs);
    if (reply?.type === "ack") return "ack";
    if (reply?.type === "nack") {
      core.stats.nacks.inc();
      return reply.unsure ? "unsure" : "nack";
    }
    return "none";
  }

  #nextTarget(): string | undefined {
    const { table } = this.core;
    for (let tries = 0; tries < 2; tries++) {
      while (this.#index < this.#order.length) {
        const id = this.#order[this.#index++]!;
        const m = table.get(id);
        if (m && !isGone(m.state)) return id;
      }
      // A full pass done: reshuffle the current membership for the next one.
      this.#order = shuffle(this.core.env.random, table.ids((m) => !isGone(m.state)));
      this.#index = 0;
    }
    return undefined;
  }

  /** Lifeguard: a probe tick that fires late means this node is slow, not its peers. */
  #lagCheck(expectedMs: number): void {
    const { core } = this;
    const now = core.env.clock.monotonicMs();
    if (this.#lastTick !== undefined && now - this.#lastTick > expectedMs * 2 + core.config.pingTimeoutMs) {
      core.awareness.apply(1);
      core.env.log.warn("event loop lag", { lateMs: Math.round(now - this.#lastTick - expectedMs) });
    }
    this.#lastTick = now;
  }
}
