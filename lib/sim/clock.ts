/**
 * Virtual time for tests and the simulator: nothing happens until `advance` is called,
 * and then every timer that falls due runs in deadline order (ties in creation order),
 * so a run is the same every time.
 */
import type { Clock, TimerHandle } from "../env.ts";

interface Timer {
  id: number;
  at: number;
  fn: () => void;
}

export class VirtualClock implements Clock {
  #now: number;
  #nextId = 1;
  readonly #timers = new Map<number, Timer>();

  constructor(startMs = 1_700_000_000_000) {
    this.#now = startMs;
  }

  now(): number {
    return this.#now;
  }

  monotonicMs(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = this.#nextId++;
    this.#timers.set(id, { id, at: this.#now + Math.max(0, ms), fn });
    return id;
  }

  clearTimeout(handle: TimerHandle): void {
    this.#timers.delete(handle as number);
  }

  /** Timers not yet run. */
  get pending(): number {
    return this.#timers.size;
  }

  /** Moves time forward by `ms`, running each timer at its own deadline. */
  advance(ms: number): void {
    const end = this.#now + ms;
    while (this.#runNext(end));
    this.#now = end;
  }

  /**
   * Moves time forward by `ms` like `advance`, but awaits `settle` after each timer, so the
   * promise chains a timer starts (a message delivered, a handler answering) run before the
   * next timer does. `settle` must let every pending promise job run, e.g. one turn of
   * setImmediate; the simulator is handed it, since lib/ names no global timers.
   */
  async run(ms: number, settle: () => Promise<void>): Promise<void> {
    const end = this.#now + ms;
    await settle();
    while (this.#runNext(end)) await settle();
    this.#now = end;
  }

  /** Runs the earliest timer due by `end`, at its own deadline; false when there is none. */
  #runNext(end: number): boolean {
    const next = this.#earliest();
    if (!next || next.at > end) return false;
    this.#timers.delete(next.id);
    this.#now = next.at;
    next.fn();
    return true;
  }

  /** Sets the wall clock to a new reading, as a skewed or corrected real clock would. */
  set(ms: number): void {
    this.#now = ms;
  }

  #earliest(): Timer | undefined {
    let best: Timer | undefined;
    for (const t of this.#timers.values()) {
      if (!best || t.at < best.at || (t.at === best.at && t.id < best.id)) best = t;
    }
    return best;
  }
}
