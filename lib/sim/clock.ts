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
  /** Live timers by id; the heap may still hold cleared ones, skipped when they surface. */
  readonly #timers = new Map<number, Timer>();
  /** A binary min-heap by (at, id): thousands of timers (200 nodes) stay cheap to order. */
  readonly #heap: Timer[] = [];

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
    const timer = { id, at: this.#now + Math.max(0, ms), fn };
    this.#timers.set(id, timer);
    this.#push(timer);
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
    // Runs may overlap (a request's `runUntil` beside a test's own `run`): the one that ends
    // first must not take back time the other has already run, or time would go backwards.
    this.#now = Math.max(this.#now, end);
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
    const heap = this.#heap;
    while (heap.length > 0 && !this.#timers.has(heap[0]!.id)) this.#pop();
    return heap[0];
  }

  #push(timer: Timer): void {
    const heap = this.#heap;
    heap.push(timer);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i]!, heap[parent]!)) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  }

  #pop(): void {
    const heap = this.#heap;
    const last = heap.pop()!;
    if (heap.length === 0) return;
    heap[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let smallest = i;
      if (l < heap.length && before(heap[l]!, heap[smallest]!)) smallest = l;
      if (r < heap.length && before(heap[r]!, heap[smallest]!)) smallest = r;
      if (smallest === i) return;
      [heap[i], heap[smallest]] = [heap[smallest]!, heap[i]!];
      i = smallest;
    }
  }
}

const before = (a: Timer, b: Timer) => a.at < b.at || (a.at === b.at && a.id < b.id);
