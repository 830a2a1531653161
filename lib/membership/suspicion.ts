/**
 * Lifeguard's suspicions: one timer per suspect member, started at the maximum timeout and
 * shortened as independent suspicions (confirmations) arrive, down to the minimum
 * (timing.ts has the formulas). When a timer fires, `onTimeout` decides what happens.
 */
import type { Clock, TimerHandle } from "../env.ts";
import type { Update } from "./member.ts";
import { expectedConfirmations, suspicionMinMs, suspicionTimeoutMs } from "./timing.ts";

export interface Suspicion {
  incarnation: number;
  by: Set<string>;
  since: number;
  minMs: number;
  maxMs: number;
  expected: number;
  timer: TimerHandle;
}

export interface SuspicionConfig {
  suspicionMult: number;
  suspicionMaxMult: number;
  protocolPeriodMs: number;
}

/** How a suspicion looks to an operator. */
export interface SuspicionView {
  by: string[];
  since: number;
  /** The timeout that applies now: from maxMs with no confirmation down to minMs. */
  timeoutMs: number;
  minMs: number;
  maxMs: number;
}

export class Suspicions {
  readonly #open = new Map<string, Suspicion>();

  constructor(
    readonly config: SuspicionConfig,
    readonly clock: Clock,
    readonly onTimeout: (id: string, s: Suspicion) => void,
  ) {}

  get(id: string): Suspicion | undefined {
    return this.#open.get(id);
  }

  view(id: string): SuspicionView | undefined {
    const s = this.#open.get(id);
    if (!s) return undefined;
    return { by: [...s.by], since: s.since, timeoutMs: suspicionTimeoutMs(s.minMs, s.maxMs, s.expected, s.by.size - 1), minMs: s.minMs, maxMs: s.maxMs };
  }

  /** A fresh suspicion of `update.id`, sized for a cluster of `members` (self included). */
  start(update: Update, members: number): void {
    this.clear(update.id);
    const { suspicionMult, suspicionMaxMult, protocolPeriodMs } = this.config;
    const minMs = suspicionMinMs(suspicionMult, members, protocolPeriodMs);
    const s: Suspicion = {
      incarnation: update.incarnation,
      by: new Set([update.from]),
      since: this.clock.now(),
      minMs,
      maxMs: suspicionMaxMult * minMs,
      expected: expectedConfirmations(suspicionMult, members),
      timer: undefined,
    };
    this.#open.set(update.id, s);
    this.#arm(update.id, s);
  }

  /** Another node's suspicion of the same member; true when it was a new suspecter. */
  confirm(update: Update): boolean {
    const s = this.#open.get(update.id);
    if (!s || s.by.has(update.from)) return false;
    s.by.add(update.from);
    this.clock.clearTimeout(s.timer);
    this.#arm(update.id, s);
    return true;
  }

  /** Starts `s`'s timer over from now, at its full length for the confirmations it has. */
  restart(id: string, s: Suspicion): void {
    if (this.#open.get(id) !== s) return;
    this.clock.clearTimeout(s.timer);
    s.since = this.clock.now();
    this.#arm(id, s);
  }

  clear(id: string): void {
    const s = this.#open.get(id);
    if (!s) return;
    this.clock.clearTimeout(s.timer);
    this.#open.delete(id);
  }

  clearAll(): void {
    for (const s of this.#open.values()) this.clock.clearTimeout(s.timer);
    this.#open.clear();
  }

  #arm(id: string, s: Suspicion): void {
    const timeout = suspicionTimeoutMs(s.minMs, s.maxMs, s.expected, s.by.size - 1);
    const remaining = Math.max(0, s.since + timeout - this.clock.now());
    s.timer = this.clock.setTimeout(() => this.onTimeout(id, s), remaining);
  }
}
