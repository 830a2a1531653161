/**
 * Who counts as gone for not answering (driver.ts): an owner that has not answered the
 * driver's poll for PATIENCE_MS in a row, or a new owner its old owners have reported they
 * could not stream to for that long. Nothing that never answers can hold the ring; a
 * joiner dropped so is not taken again for BARRED_MS.
 */

/** How long an owner may stay silent to the driver (or unreachable to its streamers) before it counts as gone. */
export const PATIENCE_MS = 10_000;
/** How long a process dropped for silence is not taken back as a joiner. */
export const BARRED_MS = 60_000;

export class Silence {
  /** Member key → since when it has not answered the driver's poll, in a row. */
  readonly #unanswered = new Map<string, number>();
  /** Member key → since when its old owners have reported it unreachable for streaming, in a row. */
  readonly #unreached = new Map<string, number>();

  /**
   * What one poll found at `now` (monotonic ms): of the members `asked` (keys), those in
   * `heard` answered; the rest are silent from now on if they were not already (and
   * `counts` says their silence counts: not one SWIM holds dead, which is asked briefly).
   * Silence counts only while the driver keeps asking: one unanswered poll of an owner the
   * next steps no longer need must not count it gone, ten seconds on, in a later change
   * (those silent past the patience stay: a joiner dropped so is barred for a while).
   */
  polled(asked: ReadonlySet<string>, heard: ReadonlySet<string>, counts: (key: string) => boolean, now: number): void {
    for (const key of asked) {
      if (heard.has(key)) this.#unanswered.delete(key);
      else if (!this.#unanswered.has(key) && counts(key)) this.#unanswered.set(key, now);
    }
    for (const [key, since] of this.#unanswered) if (!asked.has(key) && now - since <= PATIENCE_MS) this.#unanswered.delete(key);
  }

  /** No poll at `now` (nothing moves): see polled. */
  nobodyAsked(now: number): void {
    this.polled(new Set(), new Set(), () => false, now);
  }

  /** Owners (keys, with their ids) some old owner could not stream to count as silent too, from the first such report. */
  reported(owners: ReadonlyArray<{ key: string; id: string }>, unreachedIds: ReadonlySet<string>, now: number): void {
    for (const { key, id } of owners) {
      if (!unreachedIds.has(id)) this.#unreached.delete(key);
      else if (!this.#unreached.has(key)) this.#unreached.set(key, now);
    }
  }

  /** Member keys silent past the patience at `now`, not yet past the bar (forgotten after it). */
  gone(now: number): Set<string> {
    const gone = new Set<string>();
    for (const silent of [this.#unanswered, this.#unreached]) {
      for (const [key, since] of silent) {
        if (now - since > BARRED_MS + PATIENCE_MS) silent.delete(key);
        else if (now - since > PATIENCE_MS) gone.add(key);
      }
    }
    return gone;
  }
}
