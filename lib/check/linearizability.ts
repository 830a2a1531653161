/**
 * A linearizability checker for histories of reads, writes and deletes on a key-value
 * store (Wing & Gong's search with Lowe's memoization of visited configurations).
 *
 * A history is linearizable when every operation can be placed at one instant between its
 * call and its return so that, in that order, each read sees the latest write. Keys are
 * independent (linearizability is compositional), so each key is checked on its own, as a
 * register whose state is a value or absent (null).
 *
 * An operation whose outcome is unknown (a timeout, a 503) may have taken effect at any
 * point after its call, or never: it has no return time and need not be placed. A read
 * whose outcome is unknown tells nothing and is dropped.
 *
 * A DELETE is a quorum read followed by a tombstone write, not an atomic test-and-set
 * (that would take consensus, as Cassandra's lightweight transactions do). So a DELETE
 * that answered "found" is checked as a read that saw a value, then, later within the
 * same call, a write of absence; one that answered "not found" as a read of absence. Two
 * overlapping DELETEs may therefore both answer "found"; a DELETE that starts after
 * another has finished may not.
 */

/** When a written value's expiry takes effect: some instant in [from, to]. */
export interface ExpiryWindow {
  from: number;
  to: number;
}

export type Operation =
  | { kind: "put"; key: string; value: string; call: number; ret?: number; expires?: ExpiryWindow }
  | { kind: "get"; key: string; value?: string | null; call: number; ret?: number }
  | { kind: "delete"; key: string; found?: boolean; call: number; ret?: number }
  | { kind: "cas"; key: string; expect: Expectation; value: string | null; won?: boolean; call: number; ret?: number; expires?: ExpiryWindow };

/** What a conditional write needs: a given value, any value (`If-Match: *`), or absence (null). */
export type Expectation = string | null | "*";

/** `ret` undefined: the outcome is unknown (and `value`/`found` are ignored). */
export interface CheckResult {
  ok: boolean;
  /** For a failure: a key whose operations admit no linearization. */
  key?: string;
  /** Operations and keys examined. */
  operations: number;
  keys: number;
}

type State = string | null;

/** One step of the register model, as the search places it. */
interface Step {
  /** What the step needs of the state: a given value, any value (live), or nothing. */
  expect?: { value: State } | "live";
  /** What the state must not be: a failed condition saw anything else. */
  expectNot?: { value: State } | "live";
  /** The state after it, when it writes. */
  write?: { value: State };
  /** An expiry: the state becomes absent if it still is this value (and stays as it is otherwise). */
  expire?: string;
  call: number;
  ret?: number;
  /** A step that may only be placed after this one (by index). */
  after?: number;
}

/** Checks every key; stops at the first key that is not linearizable. */
export function checkHistory(history: readonly Operation[], initial: State = null): CheckResult {
  const byKey = new Map<string, Operation[]>();
  for (const op of history) {
    let ops = byKey.get(op.key);
    if (!ops) byKey.set(op.key, (ops = []));
    ops.push(op);
  }
  for (const [key, ops] of byKey) {
    if (!checkRegister(ops, initial)) return { ok: false, key, operations: history.length, keys: byKey.size };
  }
  return { ok: true, operations: history.length, keys: byKey.size };
}

function toSteps(ops: readonly Operation[]): Step[] {
  const steps: Step[] = [];
  for (const op of ops) {
    const { call, ret } = op;
    if (op.kind === "put") {
      steps.push({ write: { value: op.value }, call, ret });
      expiryOf(steps, op.value, op.expires);
    } else if (op.kind === "cas") {
      const need = op.expect === "*" ? ("live" as const) : { value: op.expect };
      if (ret === undefined || op.won) {
        steps.push({ expect: need, write: { value: op.value }, call, ret });
        if (op.value !== null) expiryOf(steps, op.value, op.expires);
      } else steps.push({ expectNot: need, call, ret });
    }
    else if (op.kind === "get") {
      if (ret !== undefined) steps.push({ expect: { value: op.value ?? null }, call, ret });
    } else if (ret === undefined) {
      steps.push({ write: { value: null }, call });
    } else if (op.found) {
      steps.push({ expect: "live", call, ret });
      steps.push({ write: { value: null }, call, ret, after: steps.length - 1 });
    } else {
      steps.push({ expect: { value: null }, call, ret });
    }
  }
  return steps;
}

/** The expiry of the write just pushed, if it has one: placed after it, within its window. */
function expiryOf(steps: Step[], value: string, expires: ExpiryWindow | undefined): void {
  if (!expires) return;
  const write = steps.length - 1;
  // A write whose outcome is unknown may never have happened: then neither does its expiry.
  const ret = steps[write]!.ret === undefined ? undefined : expires.to;
  steps.push({ expire: value, call: expires.from, ret, after: write });
}

/** The state after `step`, or undefined when `step` could not have seen `state`. */
function apply(state: State, step: Step): State | undefined {
  if (step.expectNot !== undefined && (step.expectNot === "live" ? state !== null : step.expectNot.value === state)) return undefined;
  if (step.expect === "live" && state === null) return undefined;
  if (step.expect !== undefined && step.expect !== "live" && step.expect.value !== state) return undefined;
  if (step.expire !== undefined) return state === step.expire ? null : state;
  return step.write ? step.write.value : state;
}

/** Whether one key's operations can be linearized, starting from `initial` (`grouped: false` only to test the grouping against). */
export function checkRegister(ops: readonly Operation[], initial: State = null, { grouped = true } = {}): boolean {
  const { steps, groups } = grouped ? interchangeable(toSteps(ops)) : { steps: toSteps(ops), groups: [] };
  const n = steps.length;
  if (n === 0 && groups.every((g) => g.calls.length === 0)) return true;
  const required = steps.filter((st) => st.ret !== undefined).length;
  const ret = steps.map((st) => st.ret ?? Infinity);
  const seen = new Set<string>();
  const done = new Uint8Array(n);
  const placed = groups.map(() => 0);

  // Depth-first over (placed set, state); a configuration seen before failed before.
  function search(state: State, placedRequired: number): boolean {
    if (placedRequired === required) return true;
    const memoKey = `${done.join("")}|${placed.join(",")}|${state === null ? "\u0000" : state}`;
    if (seen.has(memoKey)) return false;
    seen.add(memoKey);
    // Only a step called before every unplaced step returned can go next.
    let horizon = Infinity;
    for (let i = 0; i < n; i++) if (!done[i] && ret[i]! < horizon) horizon = ret[i]!;
    for (let i = 0; i < n; i++) {
      const step = steps[i]!;
      if (done[i] || step.call > horizon) continue;
      if (step.after !== undefined && !done[step.after]) continue;
      const next = apply(state, step);
      if (next === undefined) continue;
      done[i] = 1;
      if (search(next, placedRequired + (step.ret !== undefined ? 1 : 0))) return true;
      done[i] = 0;
    }
    // Of a group of interchangeable writes, the one called first goes first (any other could
    // take its place): how many were placed is all that matters, not which.
    for (let g = 0; g < groups.length; g++) {
      const group = groups[g]!;
      if (placed[g]! >= group.calls.length || group.calls[placed[g]!]! > horizon) continue;
      placed[g]!++;
      if (search(group.value, placedRequired)) return true;
      placed[g]!--;
    }
    return false;
  }
  return search(initial, 0);
}

/** A value no step could tell from another unobserved one: what such writes leave behind. */
const UNOBSERVED = "\u0001unobserved";

/**
 * Writes of unknown outcome that nothing can tell apart, each kind kept as the call times
 * of its writes: deletes, and writes of values no step reads, expects or expires (their
 * values become one, which every step treats as it would treat each). They need not be
 * placed and differ only in when they may be, so trying each subset of them (exponential
 * in how many timed out) is needless; the rest stay steps, `after` renumbered.
 */
function interchangeable(all: readonly Step[]): { steps: Step[]; groups: Array<{ value: State; calls: number[] }> } {
  const observed = new Set<string>();
  const referenced = new Set<number>();
  for (const st of all) {
    for (const need of [st.expect, st.expectNot]) if (need !== undefined && need !== "live" && need.value !== null) observed.add(need.value);
    if (st.expire !== undefined) observed.add(st.expire);
    if (st.after !== undefined) referenced.add(st.after);
  }
  const deletes: number[] = [];
  const unobserved: number[] = [];
  const index = new Map<number, number>();
  const steps: Step[] = [];
  all.forEach((st, i) => {
    const free = st.ret === undefined && st.write !== undefined && st.expect === undefined && st.expectNot === undefined &&
      st.expire === undefined && st.after === undefined && !referenced.has(i);
    if (free && st.write!.value === null) deletes.push(st.call);
    else if (free && !observed.has(st.write!.value!)) unobserved.push(st.call);
    else {
      index.set(i, steps.length);
      steps.push(st);
    }
  });
  for (const st of steps) if (st.after !== undefined) st.after = index.get(st.after);
  const byCall = (xs: number[]) => xs.sort((a, b) => a - b);
  return { steps, groups: [{ value: null, calls: byCall(deletes) }, { value: UNOBSERVED, calls: byCall(unobserved) }] };
}
