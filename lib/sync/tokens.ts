/**
 * What anti-entropy can promise about two replicas, for an operator's `recover`: "every
 * entry that member held before time T is here too", with T on this node's own clock.
 *
 * A node answering a peer's digest gives it a token: its own wall clock then. The peer
 * echoes the token back (`synced`, in a later digest) once a whole round of its own that
 * started after it received the token has completed toward this node: digests compared,
 * every differing bucket offered, everything wanted pushed, nothing left pending. That
 * round's summaries held the peer's store as it stood when the round began, after the token
 * was given (a walk that began then, or summaries kept true as the store changed:
 * live_tables.ts), so everything the peer stored before that moment was in them, and is
 * here now (or a newer version of its key is). Rounds run one at a time, so "started after"
 * holds by construction.
 */

/** Peers remembered at most on either side. */
const MAX_PEERS = 10_000;

export class SyncTokens {
  /** Peer → the token its latest digest reply carried (sender side). */
  readonly #given = new Map<string, number>();
  /** Peer → a token to confirm in the next digest to it: a round after it completed (sender side). */
  readonly #toConfirm = new Map<string, number>();
  /** Peer → the latest token of ours it confirmed (receiver side). */
  readonly #confirmed = new Map<string, number>();

  /** A digest reply from `peer` carried `token`. */
  received(peer: string, token: number): void {
    setBounded(this.#given, peer, token);
  }

  /** The tokens received so far: taken when a round starts, before it scans. */
  snapshot(): Map<string, number> {
    return new Map(this.#given);
  }

  /** A round that started with `before` (its snapshot) completed toward `peer`. */
  completed(peer: string, before: ReadonlyMap<string, number>): void {
    const token = before.get(peer);
    if (token !== undefined) setBounded(this.#toConfirm, peer, token);
  }

  /** The token to confirm in the next digest to `peer`, if any. */
  toConfirm(peer: string): number | undefined {
    return this.#toConfirm.get(peer);
  }

  /** `peer` confirmed one of our tokens: everything it held when we gave it is here. */
  confirmedBy(peer: string, token: number): void {
    if (token > (this.#confirmed.get(peer) ?? -Infinity)) setBounded(this.#confirmed, peer, token);
  }

  /** Per peer, the latest time (this node's wall clock, ms) before which everything it held is here. */
  syncedFrom(): Record<string, number> {
    return Object.fromEntries(this.#confirmed);
  }
}

function setBounded(map: Map<string, number>, key: string, value: number): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > MAX_PEERS) map.delete(map.keys().next().value!);
}
