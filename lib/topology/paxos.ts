/**
 * Single-decree Paxos, one instance per epoch: the acceptors of the instance that decides
 * epoch e+1 are the members of epoch e (state.ts `acceptors`). Pure functions over an
 * acceptor's plain state; the shell (topology.ts) keeps that state in memory, and a
 * restarted process, having a new nonce, is never an acceptor of an instance it did not
 * belong to, so it cannot vote twice with a forgotten promise.
 */
import type { TopologyState } from "./state.ts";
import type { AcceptReply, Ballot, PrepareReply } from "../wire/ring.ts";

// The messages' shapes live with their encoding (lib/wire is a leaf).
export type { AcceptReply, Ballot, PrepareReply } from "../wire/ring.ts";

export function compareBallots(a: Ballot | undefined, b: Ballot | undefined): number {
  if (!a || !b) return a ? 1 : b ? -1 : 0;
  if (a.round !== b.round) return a.round < b.round ? -1 : 1;
  return a.by < b.by ? -1 : a.by > b.by ? 1 : 0;
}

export interface AcceptorState {
  /** The epoch this acceptor's promises are about (its decided epoch + 1). */
  instance: number;
  promised?: Ballot;
  accepted?: { ballot: Ballot; value: TopologyState };
}


/** Acceptor state for `instance`: what it holds if about the same instance, else fresh. */
export function forInstance(state: AcceptorState, instance: number): AcceptorState {
  return state.instance === instance ? state : { instance };
}

/** Phase 1b: promise to ignore lower ballots, and tell what was accepted already. */
export function onPrepare(state: AcceptorState, ballot: Ballot): { state: AcceptorState; reply: PrepareReply } {
  if (compareBallots(ballot, state.promised) <= 0) return { state, reply: { ok: false, promised: state.promised } };
  const next = { ...state, promised: ballot };
  return { state: next, reply: state.accepted ? { ok: true, accepted: state.accepted } : { ok: true } };
}

/** Phase 2b: accept unless a higher ballot was promised. */
export function onAccept(state: AcceptorState, ballot: Ballot, value: TopologyState): { state: AcceptorState; reply: AcceptReply } {
  if (compareBallots(ballot, state.promised) < 0) return { state, reply: { ok: false, promised: state.promised } };
  return { state: { ...state, promised: ballot, accepted: { ballot, value } }, reply: { ok: true } };
}

/** Phase 2a's value: the one accepted under the highest ballot among the promises, else our own. */
export function valueToPropose(promises: readonly PrepareReply[], own: TopologyState): TopologyState {
  let best: { ballot: Ballot; value: TopologyState } | undefined;
  for (const p of promises) {
    if (p.ok && p.accepted && compareBallots(p.accepted.ballot, best?.ballot) > 0) best = p.accepted;
  }
  return best ? best.value : own;
}

/** One node's acceptor across epochs: its promise and acceptance for the instance after the epoch it holds. */
export class Acceptor {
  #state: AcceptorState;

  constructor(epoch: number) {
    this.#state = { instance: epoch + 1 };
  }

  /** The node took `epoch`: what it promised about earlier instances no longer matters. */
  advance(epoch: number): void {
    this.#state = forInstance(this.#state, epoch + 1);
  }

  prepare(epoch: number, ballot: Ballot): PrepareReply {
    const { state, reply } = onPrepare(forInstance(this.#state, epoch + 1), ballot);
    this.#state = state;
    return reply;
  }

  accept(epoch: number, ballot: Ballot, value: TopologyState): AcceptReply {
    const { state, reply } = onAccept(forInstance(this.#state, epoch + 1), ballot, value);
    this.#state = state;
    return reply;
  }
}
