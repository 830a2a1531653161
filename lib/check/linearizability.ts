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
 */

export type Operation =
  | { kind: "put"; key: string; value: string; call: number; ret?: number }
  | { kind: "get"; key: string; value?: string | null; call: number; ret?: number }
  | { kind: "delete"; key: string; found?: boolean; call: number; ret?: number };

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

/** Checks every key; stops at the first key that is not linearizable. */
export function checkHistory(history: readonly Operation[], initial: State = null): CheckResult {
  const byKey = new Map<string, Operation[]>();
  for (const op of history) {
    if (op.kind === "get" && op.ret === undefined) continue;
    let ops = byKey.get(op.key);
    if (!ops) byKey.set(op.key, (ops = []));
    ops.push(op);
  }
  for (const [key, ops] of byKey) {
    if (!checkRegister(ops, initial)) return { ok: false, key, operations: history.length, keys: byKey.size };
  }
  return { ok: true, operations: history.length, keys: byKey.size };
}

/** The register model: the state after `op`, or undefined when `op` could not see `state`. */
function step(state: State, op: Operation): State | undefined {
  const known = op.ret !== undefined;
  switch (op.kind) {
    case "put":
      return op.value;
    case "get":
      return op.value === state ? state : undefined;
    case "delete":
      if (!known) return null;
      if (op.found) return state !== null ? null : undefined;
      return state === null ? null : undefined;
  }
}

/** Whether one key's operations can be linearized, starting from `initial`. */
export function checkRegister(ops: readonly Operation[], initial: State = null): boolean {
  const n = ops.length;
  if (n === 0) return true;
  const required = ops.filter((op) => op.ret !== undefined).length;
  const ret = ops.map((op) => op.ret ?? Infinity);
  const seen = new Set<string>();
  const done = new Uint8Array(n);

  // Depth-first over (placed set, state); a configuration seen before failed before.
  function search(state: State, placedRequired: number): boolean {
    if (placedRequired === required) return true;
    const memoKey = `${done.join("")}|${state === null ? "\u0000" : state}`;
    if (seen.has(memoKey)) return false;
    seen.add(memoKey);
    // Only an operation called before every unplaced operation returned can go next.
    let horizon = Infinity;
    for (let i = 0; i < n; i++) if (!done[i] && ret[i]! < horizon) horizon = ret[i]!;
    for (let i = 0; i < n; i++) {
      const op = ops[i]!;
      if (done[i] || op.call > horizon) continue;
      const next = step(state, op);
      if (next === undefined) continue;
      done[i] = 1;
      if (search(next, placedRequired + (op.ret !== undefined ? 1 : 0))) return true;
      done[i] = 0;
    }
    return false;
  }
  return search(initial, 0);
}
