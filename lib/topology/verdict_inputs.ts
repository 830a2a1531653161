/**
 * What the driver's verdicts depend on, each as one string: the planner judges every range
 * of the ring (vnodes x members), so the driver keeps a verdict while its inputs stay the
 * same, as they do in a settled cluster and between polls that bring no news.
 */
import type { DriverView, Step } from "./plan.ts";
import { memberKey, type TopologyState } from "./state.ts";

/** Owners (member keys) that hold an epoch or later, and each one's report of its streaming for it. */
export interface Acks {
  base: TopologyState;
  fenced: Set<string>;
  streamed: Map<string, Set<string>>;
  /** Whom the last verdict on `base` waited for: polled again, with the owners the step needs. */
  waitingFor: readonly string[];
}

/** What the owners' acknowledgements hold that a verdict depends on, as one string. */
export function ackInputs(fenced: ReadonlySet<string>, streamed: ReadonlyMap<string, ReadonlySet<string>>): string {
  return `${fenced.size}|${[...streamed].map(([key, unreached]) => `${key}:${[...unreached].sort().join(",")}`).sort().join(";")}`;
}

/** What a view holds that a verdict depends on, as one string (`now` only stamps what a step pins). */
export function viewInputs(view: Omit<DriverView, "fenced" | "streamed">): string {
  const sorted = (keys: Iterable<string>) => [...keys].sort().join(",");
  return [sorted(view.removable), sorted(view.gone), sorted(view.leaving), sorted(view.joiners.map(memberKey))].join("|");
}

/** A verdict kept while the ring it was made on and its inputs stay the same. */
export class KeptVerdict {
  #last?: { base: TopologyState; inputs: string; step: Step };

  /** The verdict on `base` for `inputs`: the one kept if both are the same, else `judge()`'s. */
  of(base: TopologyState, inputs: string, judge: () => Step): Step {
    if (this.#last?.base === base && this.#last.inputs === inputs) return this.#last.step;
    const step = judge();
    this.#last = { base, inputs, step };
    return step;
  }
}
