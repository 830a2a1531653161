/**
 * The replica gate, on every replica request: the fence (the highest epoch this node has
 * seen, below which it refuses), and whether this process owns anything in the epoch it
 * holds. A later epoch than known is taken on trust as a fence (this node refuses older ones
 * from then on) and fetched.
 */

/** A replica request tagged with an epoch older than this node's fence. */
export class StaleEpochError extends Error {
  override name = "StaleEpochError";
  constructor(readonly epoch: number, readonly tag: number) {
    super(`epoch ${tag} is over: this node is at epoch ${epoch}`);
  }
}

/** A replica request to a process that is not a member of the ring it knows (new, restarted or removed). */
export class NotOwnerError extends Error {
  override name = "NotOwnerError";
  constructor(readonly self: string) {
    super(`${self} owns nothing in the epoch it knows`);
  }
}

export interface GateParts {
  /** The epoch this node holds. */
  epoch(): number;
  /** Whether this process owns anything in it. */
  owner(): boolean;
  self(): string;
  /** Someone tagged a later epoch than the one held: fetch it. */
  heard(epoch: number, from?: string): void;
}

export class ReplicaGate {
  #fence: number;

  constructor(initialEpoch: number, readonly parts: GateParts) {
    this.#fence = initialEpoch;
  }

  /** This node took `epoch`: it refuses older ones from now on. */
  raise(epoch: number): void {
    if (epoch > this.#fence) this.#fence = epoch;
  }

  /** Throws unless this process may answer a replica request tagged `tag` now. */
  admit(tag: number, from?: string): void {
    if (tag < this.#fence) throw new StaleEpochError(this.#fence, tag);
    if (tag > this.#fence) this.#fence = tag;
    const { parts } = this;
    if (tag > parts.epoch()) parts.heard(tag, from);
    if (!parts.owner()) throw new NotOwnerError(parts.self());
  }
}
