/**
 * A replica's side of conditional writes: single-decree Paxos per key, one decree per
 * version of the key (which write comes right after it).
 *
 * Promises and accepted proposals live here, beside the store and never in it: the store
 * holds only values that were chosen (plain writes, and conditional writes once a quorum
 * accepted them), so last-writer-wins between replicas can never bring back a proposal
 * that lost its ballot. An accepted proposal reaches the store when its proposer commits
 * it (an ordinary put of the chosen entry, sent as the write is answered), or when a later
 * proposer, a read or a ring transition finishes it; until then gets name it (`pending`).
 *
 * An acceptor takes a proposal only while its store holds nothing newer than the version
 * the proposal was conditioned on: a plain write that landed between a proposer's read and
 * its accept makes it fail there (docs/cas.md has the argument).
 */
import type { Entry, Store } from "../store/store.ts";
import { type Ballot, compareBallots, compareVersions, successor, type Version } from "../store/version.ts";
import type { EpochGate } from "../replication/replica.ts";
import { LeavingError } from "../replication/replica.ts";
import { MessageError } from "../wire/fields.ts";
import { type AcceptReply, type CasState, CHOSEN_KEPT, type Pending, type PrepareReply } from "../wire/cas.ts";

export type { AcceptReply, Pending, PrepareReply } from "../wire/cas.ts";

/** What a replica answers conditional writes with; the local one and peers' look alike. */
export interface Acceptor {
  prepare(key: string, ballot: Ballot, epoch: number): PrepareReply;
  accept(key: string, ballot: Ballot, base: Version | undefined, entry: Entry, epoch: number): AcceptReply;
  /** A proposal this replica accepted that its store does not hold yet (one that may still be chosen). */
  pending(key: string): Pending | undefined;
  /** A conditional version reached this replica's store: it was chosen. */
  chose(key: string, version: Version): void;
  /** The promise and unstored proposal for a key, changing nothing (for operators). */
  state(key: string, epoch: number): CasState;
}

/**
 * Chosen versions an acceptor remembers per key, and for how long: enough for a proposer
 * whose proposal was accepted somewhere to learn in a later round whether it was chosen,
 * while the key moves on under contention (a conditional write lasts seconds at most).
 */
export const CHOSEN_FOR_MS = 30_000;

interface KeyState {
  promised: Ballot;
  accepted?: Pending;
  /** Conditional versions this replica knows were chosen, newest last, with when it learned so (see `chose`). */
  chosen: Array<{ version: Version; at: number }>;
  /** When this replica last promised or accepted for the key (local clock), for purging. */
  at: number;
}

export class CasAcceptor implements Acceptor {
  readonly #keys = new Map<string, KeyState>();
  /** Keys whose accepted proposal may not be stored yet (pruned as `unstored` finds them stored). */
  readonly #unstored = new Set<string>();

  constructor(
    private readonly store: Store,
    private readonly now: () => number,
    private readonly leaving: () => boolean = () => false,
    private readonly gate: EpochGate = () => {},
  ) {}

  prepare(key: string, ballot: Ballot, epoch: number): PrepareReply {
    this.gate(epoch);
    const state = this.#keys.get(key);
    const entry = this.store.get(key);
    const chosen = state ? this.#recent(state) : [];
    if (state && compareBallots(ballot, state.promised) < 0) return { promised: false, ballot: state.promised, chosen };
    const accepted = this.#live(state?.accepted, entry);
    this.#keys.set(key, { promised: ballot, accepted, chosen: state?.chosen ?? [], at: this.now() });
    return { promised: true, entry, accepted, chosen };
  }

  accept(key: string, ballot: Ballot, base: Version | undefined, entry: Entry, epoch: number): AcceptReply {
    if (this.leaving()) throw new LeavingError();
    this.gate(epoch);
    const expected = entry.version.ballot && compareVersions(entry.version, successor(base, entry.version.ballot)) === 0;
    if (!expected) throw new MessageError("a proposal's version must follow its base");
    const state = this.#keys.get(key);
    if (state && compareBallots(ballot, state.promised) < 0) return { accepted: false, ballot: state.promised };
    const held = this.store.get(key)?.version;
    if (held && compareVersions(held, entry.version) === 0) return { accepted: true }; // already committed here
    if (held && (!base || compareVersions(held, base) > 0)) return { accepted: false, current: held };
    // A proposal's base is chosen: the proposal this replica accepted at that very version
    // is stored before the new one takes its place (its commit, if still on the way, can only agree).
    const prior = state?.accepted;
    if (prior && base && compareVersions(prior.entry.version, base) === 0) this.store.apply(key, prior.entry);
    this.#keys.set(key, { promised: ballot, accepted: { ballot, base, entry }, chosen: state?.chosen ?? [], at: this.now() });
    this.#unstored.add(key);
    // What a proposal was conditioned on came from a store, which holds only chosen values,
    // or was accepted by a quorum at one ballot (propose.ts): chosen either way.
    if (base?.step) this.chose(key, base);
    return { accepted: true };
  }

  state(key: string, epoch: number): CasState {
    this.gate(epoch);
    const state = this.#keys.get(key);
    const pending = this.pending(key)?.entry.version;
    return { ...(state ? { promised: state.promised } : {}), ...(pending ? { pending } : {}) };
  }

  pending(key: string): Pending | undefined {
    const state = this.#keys.get(key);
    return state && this.#live(state.accepted, this.store.get(key));
  }

  /**
   * Keys with an accepted proposal the store does not hold, and its version: what a ring
   * transition settles before the keys move, and what a listing reads through Paxos. Only
   * writes in flight, or whose proposers died between accept and commit.
   */
  unstored(): Array<[string, Version]> {
    const found: Array<[string, Version]> = [];
    for (const key of this.#unstored) {
      const pending = this.pending(key);
      if (pending) found.push([key, pending.entry.version]);
      else this.#unstored.delete(key);
    }
    return found;
  }

  chose(key: string, version: Version): void {
    const state = this.#keys.get(key);
    if (this.#unstored.has(key) && !this.pending(key)) this.#unstored.delete(key);
    if (!state || state.chosen.some((c) => compareVersions(c.version, version) === 0)) return;
    state.chosen.push({ version, at: this.now() });
    if (state.chosen.length > CHOSEN_KEPT) state.chosen.shift();
  }

  /** The chosen versions still worth telling, dropping the rest. */
  #recent(state: KeyState): Version[] {
    const since = this.now() - CHOSEN_FOR_MS;
    while (state.chosen.length > 0 && state.chosen[0]!.at < since) state.chosen.shift();
    return state.chosen.map((c) => c.version);
  }

  /**
   * Forgets promises untouched for `graceMs`, as tombstones are purged (a proposer paused
   * longer than that is refused by the store check alone); an accepted proposal the store
   * does not hold yet is kept until it is committed or overtaken.
   */
  purge(graceMs: number): number {
    const cutoff = this.now() - graceMs;
    let purged = 0;
    for (const [key, state] of this.#keys) {
      if (state.at > cutoff || this.#live(state.accepted, this.store.get(key))) continue;
      this.#keys.delete(key);
      this.#unstored.delete(key);
      purged++;
    }
    return purged;
  }

  get size(): number {
    return this.#keys.size;
  }

  /** The accepted proposal, unless the store already holds it or has moved past what it was conditioned on. */
  #live(accepted: Pending | undefined, entry: Entry | undefined): Pending | undefined {
    if (!accepted || !entry) return accepted;
    if (compareVersions(entry.version, accepted.entry.version) >= 0) return undefined;
    if (!accepted.base || compareVersions(entry.version, accepted.base) > 0) return undefined;
    return accepted;
  }
}
