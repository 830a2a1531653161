/**
 * What this node says of itself, and its answer to what others say of it.
 *
 * SWIM's rule: anything but alive at or above our incarnation is refuted at once, one
 * incarnation higher. Two exceptions, both about links that are not sound, where refuting
 * would only make the member flap in everyone's view:
 *
 * - Unwell (awareness.ts: its own pings keep going unanswered), this node is more likely
 *   the fault than the members accusing it. Refuting, it would be suspected again at each
 *   incarnation, declared dead at an old one by members that missed the refutation and
 *   revived by its next message, for as long as the link is bad (Rapid's lossy-member test:
 *   memberlist's view never settles). So it holds the accusation: the cluster declares it
 *   dead, and it stays so, stably, until it is well again.
 * - Back from the dead more than once lately (a link that comes and goes: Rapid's flapping
 *   test), it holds until its links have been sound for a while: 30 s after one comeback in
 *   the last 10 minutes, doubling with each more, at most 10 minutes. A member whose links
 *   were sound all along refutes at once.
 *
 * Pure state, told the time: Swim performs what `hear()` and `wellAgain()` return.
 */
import type { Awareness } from "./awareness.ts";
import { refutation, type Update } from "./member.ts";

/** Comebacks from the dead older than this are forgotten. */
export const COMEBACK_WINDOW_MS = 10 * 60_000;
/** Sound links needed before refuting, after one recent comeback; doubles with each more. */
export const FLAP_WAIT_MS = 30_000;

/** How long this node's links must have been sound before it refutes, after `comebacks` recent comebacks. */
export function flapWaitMs(comebacks: number): number {
  return comebacks === 0 ? 0 : Math.min(COMEBACK_WINDOW_MS, FLAP_WAIT_MS * 2 ** (comebacks - 1));
}

export type Heard =
  /** Nothing to answer: old news, or the node has left. */
  | { kind: "none" }
  /** Refute: gossip `alive`, this node's new word about itself. */
  | { kind: "refute"; alive: Update }
  /** Unwell or flapping: the accusation is held, not refuted (`first`: it was not holding one before). */
  | { kind: "hold"; first: boolean };

export class OwnWord {
  #incarnation = 0;
  #left = false;
  #held: Update | undefined;
  /** Local monotonic ms since which this node has been well, without a break. */
  #wellSince: number | undefined;
  /** When it last refuted a death (within COMEBACK_WINDOW_MS). */
  #comebacks: number[] = [];

  constructor(readonly self: string, readonly awareness: Pick<Awareness, "unwell">) {}

  get incarnation(): number {
    return this.#incarnation;
  }

  get state(): "alive" | "left" {
    return this.#left ? "left" : "alive";
  }

  /** An accusation held, not yet refuted. */
  get held(): Update | undefined {
    return this.#held;
  }

  update(): Update {
    return { id: this.self, state: this.state, incarnation: this.#incarnation, from: this.self };
  }

  /** A graceful leave: `left`, one incarnation higher, to gossip. */
  leave(): Update {
    this.#incarnation++;
    this.#left = true;
    this.#held = undefined;
    return this.update();
  }

  /** What others say of this node, heard at local monotonic `now`: refute it, hold it, or nothing. */
  hear(update: Update, now: number): Heard {
    this.#observe(now);
    if (this.#left) return { kind: "none" };
    const next = refutation(this.#incarnation, update);
    if (next === undefined) return { kind: "none" };
    if (update.state !== "alive" && !this.#sound(now)) {
      const first = this.#held === undefined;
      if (first || update.incarnation >= this.#held!.incarnation) this.#held = update;
      return { kind: "hold", first };
    }
    if (update.state === "dead") this.#comebacks.push(now);
    this.#held = undefined;
    this.#incarnation = next;
    return { kind: "refute", alive: this.update() };
  }

  /** Called every protocol period: the refutation of a held accusation once this node may answer it; undefined until then. */
  wellAgain(now: number): Heard | undefined {
    this.#observe(now);
    if (this.#held === undefined || !this.#sound(now)) return undefined;
    return this.hear(this.#held, now);
  }

  /** Well, and for long enough given how often it came back lately. */
  #sound(now: number): boolean {
    if (this.#wellSince === undefined) return false;
    this.#comebacks = this.#comebacks.filter((at) => now - at < COMEBACK_WINDOW_MS);
    return now - this.#wellSince >= flapWaitMs(this.#comebacks.length);
  }

  #observe(now: number): void {
    if (this.awareness.unwell) this.#wellSince = undefined;
    else this.#wellSince ??= now;
  }
}
