/**
 * The agreed ring as a client sees it: which members own each key, read from the JSON of
 * `GET /cluster/ring`, so a request can go straight to an owner (as Cassandra's
 * token-aware drivers do). Pure: built from that JSON, with the nodes' own ring code and
 * hash, so a key lands where the nodes place it.
 */
import { ringPosition } from "../lib/ring/hash.ts";
import { Ring } from "../lib/ring/ring.ts";

/** A range held by its own owners instead of the members' ring (`pins` in /cluster/ring). */
interface PinnedRange {
  lo: bigint;
  hi: bigint;
  owners: string[];
}

export class RingView {
  readonly #ring = new Ring();
  readonly #pins: PinnedRange[];

  private constructor(
    readonly epoch: number,
    /** Members of the ring, ids (`host:port`). */
    readonly members: readonly string[],
    /** N: how many members own each key. */
    readonly replicas: number,
    vnodes: ReadonlyArray<{ position: bigint; member: string }>,
    pins: PinnedRange[],
  ) {
    const byMember = new Map<string, bigint[]>();
    for (const v of vnodes) byMember.set(v.member, [...(byMember.get(v.member) ?? []), v.position]);
    for (const [member, positions] of byMember) this.#ring.add(member, positions);
    this.#pins = pins;
  }

  /** The view of a `/cluster/ring` answer; an Error saying what is wrong with one that is not. */
  static from(json: unknown): RingView {
    const ring = object(json, "the ring");
    const epoch = ring.epoch;
    if (!Number.isSafeInteger(epoch) || (epoch as number) < 0) throw new Error("the ring's epoch is not a count");
    const replicas = object(ring.quorum, "the ring's quorum").n;
    if (!Number.isSafeInteger(replicas) || (replicas as number) < 1) throw new Error("the ring's quorum.n is not a positive count");
    const vnodes = array(ring.vnodes, "the ring's vnodes").map((v) => {
      const o = object(v, "a vnode");
      return { position: position(o.position), member: id(o.member) };
    });
    const pins = array(ring.pins ?? [], "the ring's pins").map((p) => {
      const o = object(p, "a pin");
      return { lo: position(o.lo), hi: position(o.hi), owners: array(o.owners, "a pin's owners").map(id) };
    });
    const members = array(ring.members, "the ring's members").map(id);
    return new RingView(epoch as number, members, replicas as number, vnodes, pins);
  }

  /** The key's owners, in the ring's order: a pinned range's own, else the first N members clockwise. */
  owners(key: string): string[] {
    const at = ringPosition(key);
    const pin = this.#pins.find((p) => p.lo <= at && at <= p.hi);
    if (pin) return [...pin.owners];
    return [...this.#ring.preferenceList(at, this.replicas)];
  }
}

function object(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new Error(`${what} is not an object`);
  return v as Record<string, unknown>;
}

function array(v: unknown, what: string): unknown[] {
  if (!Array.isArray(v)) throw new Error(`${what} is not a list`);
  return v;
}

function position(v: unknown): bigint {
  if (typeof v !== "string" || !/^[0-9a-f]{1,16}$/.test(v)) throw new Error(`a ring position is 1-16 hex digits: received ${JSON.stringify(v)}`);
  return BigInt(`0x${v}`);
}

function id(v: unknown): string {
  if (typeof v !== "string" || !/^[^\s/]+:[0-9]{1,5}$/.test(v)) throw new Error(`a member is host:port: received ${JSON.stringify(v)}`);
  return v;
}
