/**
 * What this node says of itself, and its answer to what others say of it.
 *
 * SWIM's rule: anything but alive at or above our incarnation is refuted at once, one
 * incarnation higher. One exception. A node that is unwell (awareness.ts: its own probes
 * keep failing with no helper even nacking) is more likely the fault than the members
 * accusing it; refuting
 * would only make it flap, suspected at each incarnation, declared dead at an old one,
 * revived by its next message (Rapid's lossy-member test: memberlist's view never settles).
 * So it holds the accusation: the cluster declares it dead, and it stays so, stably, until
 * its links are sound again; then it refutes and is back. Pure state: Swim performs what
 * `hear()` and `wellAgain()` return.
 */
import type { Awareness } from "./awareness.ts";
import { refutation, type Update } from "./member.ts";

export type Heard =
  /** Nothing to answer: old news, or the node has left. */
  | { kind: "none" }
  /** Refute: gossip `alive`, this node's new word about itself. */
  | { kind: "refute"; alive: Update }
  /** Unwell: the accusation is held, not refuted (`first`: it was not holding one before). */
  | { kind: "hold"; first: boolean };

export class OwnWord {
  #incarnation = 0;
  #left = false;
  #held: Update | undefined;

  constructor(readonly self: string, readonly awareness: Pick<Awareness, "unwell">) {}

  get incarnation(): number {
    return this.#incarnation;
  }

  get state(): "alive" | "left" {
    return this.#left ? "left" : "alive";
  }

  /** An accusation held while unwell, not yet refuted. */
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

  /** What others say of this node: refute it, hold it, or nothing. */
  hear(update: Update): Heard {
    if (this.#left) return { kind: "none" };
    const next = refutation(this.#incarnation, update);
    if (next === undefined) return { kind: "none" };
    if (update.state !== "alive" && this.awareness.unwell) {
      const first = this.#held === undefined;
      if (first || update.incarnation >= this.#held!.incarnation) this.#held = update;
      return { kind: "hold", first };
    }
    this.#held = undefined;
    this.#incarnation = next;
    return { kind: "refute", alive: this.update() };
  }

  /** The refutation of a held accusation once this node is well again; undefined while it is not (or holds none). */
  wellAgain(): Heard | undefined {
    if (this.#held === undefined || this.awareness.unwell) return undefined;
    return this.hear(this.#held);
  }
}
