/**
 * The driver loop's pace. It looks for a step every DRIVER_TICK_MS while anything may be
 * under way, and every SETTLED_TICK_MS while the ring is settled: then only news can give
 * it something to do, and news wakes it at once (`wake`), so an idle member is not woken
 * four times a second for nothing.
 */
import type { Clock, TimerHandle } from "../env.ts";
import type { Phase } from "./state.ts";

/** How often the driver looks for a step to take, and members say hello. */
export const DRIVER_TICK_MS = 250;
/** The settled ring's backstop tick: a missed wake costs at most this much. */
export const SETTLED_TICK_MS = 2_000;

/** What the pace is decided from, as this node sees it when it schedules its next tick. */
export interface LoopState {
  /** The last tick found nothing to do: this node is not the driver, or the ring needs nothing. */
  idle: boolean;
  /** News came in since the last tick began. */
  woken: boolean;
  /** Ticks still to sit out after a lost ballot. */
  backoff: number;
  phase: Phase;
  /** This node is a member of the epoch it knows, and is not leaving. */
  staying: boolean;
  /** Processes asking to join, and members leaving. */
  candidates: number;
  leavers: number;
  /** Every owner of the epoch is alive in SWIM. */
  ownersAlive: boolean;
}

/** Whether nothing but news can give the loop something to do. */
export function isSettled(s: LoopState): boolean {
  return s.idle && !s.woken && s.backoff === 0 && s.phase === "stable" && s.staying && s.candidates === 0 && s.leavers === 0 && s.ownersAlive;
}

export function nextTickMs(s: LoopState): number {
  return isSettled(s) ? SETTLED_TICK_MS : DRIVER_TICK_MS;
}

/** Runs `tick` over and over, one at a time, at the pace `state` calls for. */
export class PacedLoop {
  #timer: TimerHandle | undefined;
  /** Whether the pending tick is the settled ring's slower one (a wake brings it forward). */
  #settledTimer = false;
  /** Whether news came in since the last tick began: the next comes at the usual pace. */
  #woken = false;
  #started = false;
  #stopped = false;
  #ticks = 0;

  constructor(
    readonly clock: Pick<Clock, "setTimeout" | "clearTimeout">,
    readonly tick: () => Promise<void>,
    readonly state: () => Omit<LoopState, "woken">,
  ) {}

  /** Starts the loop; a second call does nothing (two timer chains would run ticks at once). */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#schedule();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) this.clock.clearTimeout(this.#timer);
  }

  /** News the loop acts on: the next tick comes at the usual pace. */
  wake(): void {
    this.#woken = true;
    if (this.#stopped || !this.#settledTimer || this.#timer === undefined) return;
    this.clock.clearTimeout(this.#timer);
    this.#schedule();
  }

  /** How many ticks have begun since the loop started. */
  get ticks(): number {
    return this.#ticks;
  }

  #schedule(): void {
    if (this.#stopped) return;
    const state = { ...this.state(), woken: this.#woken };
    this.#settledTimer = isSettled(state);
    this.#timer = this.clock.setTimeout(() => {
      this.#timer = undefined;
      this.#ticks++;
      this.#woken = false;
      void this.tick().finally(() => this.#schedule());
    }, nextTickMs(state));
  }
}
