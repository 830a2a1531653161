/**
 * A node's side of the agreed ring: the latest decided epoch it knows, its replica gate
 * (gate.ts: the fence and ownership), its Paxos acceptor state, and the `/_ring/`
 * messages. The loop that proposes changes is driver.ts; the rules are in state.ts,
 * plan.ts and paxos.ts.
 */
import { type Env, sendWithTimeout } from "../env.ts";
import { MessageError } from "../wire/fields.ts";
import {
  decodeTopologyMessage,
  decodeTopologyReply,
  encodeTopologyMessage,
  encodeTopologyReply,
  type TopologyMessage,
  type TopologyReply,
} from "../wire/ring.ts";
import { Acceptor } from "./paxos.ts";
import { CatchUp } from "./catch_up.ts";
import { Hellos } from "./hellos.ts";
import { ReplicaGate } from "./gate.ts";
import { Layout } from "./placement.ts";
import { isAcceptor, isOwner, isRingMember, memberKey, type MemberRef, owners, type TopologyState } from "./state.ts";

export { NotOwnerError, StaleEpochError } from "./gate.ts";

export interface TopologyConfig {
  vnodes: number;
  replicas: number;
}

export interface TopologyOptions {
  self: MemberRef;
  /** Where to start: a new cluster's founding ring, or NO_RING for a node that joins. */
  initial: TopologyState;
  config: TopologyConfig;
  env: Pick<Env, "clock" | "transport" | "log">;
}

export type TopologyListener = (state: TopologyState, previous: TopologyState) => void;

export const TOPOLOGY_TIMEOUT_MS = 1_000;
/**
 * How many members a node tells of each epoch it adopts, among `alive` (see notify). The
 * proposer tells only the councils and the owners whose ranges move; passed on so, a
 * decision reaches the rest in a few hops of a round trip. A member no notice reaches
 * (N e^-fanout of them: about one in eight clusters has one) still hears of the epoch from
 * the next SWIM message it trades, within a protocol period.
 */
export function spreadFanout(alive: number): number {
  return Math.ceil(Math.log(Math.max(alive, 1))) + 2;
}

export class Topology {
  /** This process as a member; its nonce changes if it learns it was removed (see adopt). */
  self: MemberRef;
  selfKey: string;
  readonly #birthNonce: string;
  #state: TopologyState;
  #layout: Layout;
  #member: boolean;
  #owner: boolean;
  readonly #gate: ReplicaGate;
  #streamed = 0;
  #unreached: string[] = [];
  #leaving = false;
  readonly #acceptor: Acceptor;
  /** What processes said in their hellos: asking to join, or leaving. */
  readonly hellos: Hellos;
  readonly #listeners: TopologyListener[] = [];
  readonly #catchUp: CatchUp;

  constructor(readonly options: TopologyOptions) {
    this.self = options.self;
    this.selfKey = memberKey(options.self);
    this.#birthNonce = options.self.nonce;
    this.#state = options.initial;
    this.#layout = new Layout(options.initial, options.config.vnodes, options.config.replicas);
    this.#member = isRingMember(options.initial, this.self);
    this.#owner = isOwner(options.initial, this.self);
    this.#acceptor = new Acceptor(options.initial.epoch);
    this.hellos = new Hellos(options.env.clock);
    this.#catchUp = new CatchUp({
      clock: options.env.clock,
      epoch: () => this.#state.epoch,
      owners: () => owners(this.#state).map((m) => m.id).filter((id) => id !== this.self.id),
      fetch: (peer) => this.ask(peer, { type: "get", from: this.self }),
    });
    this.#gate = new ReplicaGate(options.initial.epoch, {
      epoch: () => this.#state.epoch, owner: () => this.#owner, self: () => this.self.id, heard: (epoch, from) => this.heard(epoch, from),
    });
  }


  get state(): TopologyState {
    return this.#state;
  }

  get layout(): Layout {
    return this.#layout;
  }

  get epoch(): number {
    return this.#state.epoch;
  }

  /** Whether this process is a member (old or new owner) of the epoch it knows: it is on the ring (and votes, unless a council does). */
  get isMember(): boolean {
    return this.#member;
  }

  /** Whether this process owns anything in the epoch it knows: a member, or an owner of a pinned range only. */
  get isOwner(): boolean {
    return this.#owner;
  }

  get streamed(): number {
    return this.#streamed;
  }

  /** New owners the last finished streaming could not reach (see markStreamed). */
  get unreached(): readonly string[] {
    return this.#unreached;
  }

  get leaving(): boolean {
    return this.#leaving;
  }

  /** What the ring's next change waits for, as this node's driver loop sees it (the driver sets it). */
  nextChange: () => string = () => "unknown";

  /** Wakes this node's driver loop for news that is not an epoch: a hello, or this node starting to leave (the driver sets it). */
  nudge: () => void = () => {};

  onChange(listener: TopologyListener): void {
    this.#listeners.push(listener);
  }

  /**
   * This node, as an old owner, has pushed all it had to move in `epoch`, except to the new
   * owners in `unreached` (the ranges moving to them are not streamed by this node).
   */
  markStreamed(epoch: number, unreached: readonly string[] = []): void {
    if (epoch !== this.#state.epoch) return;
    this.#streamed = epoch;
    this.#unreached = [...unreached];
  }

  startLeaving(): void {
    this.#leaving = true;
    this.nudge();
  }

  /** Processes that said hello lately, asking to join; a hello from a process the ring removed is stale (it came back as a newer one). */
  candidates(): MemberRef[] {
    const removed = new Set(this.#state.removed);
    return this.hellos.candidates().filter((c) => !removed.has(memberKey(c)));
  }

  /** Member ids that said they are leaving, this node included once it is. */
  leavers(): Set<string> {
    const ids = this.hellos.leavers();
    if (this.#leaving) ids.add(this.self.id);
    return ids;
  }

  /** Members of the ring, other than this node, that have not said they are leaving. */
  staying(): string[] {
    const leaving = this.leavers();
    return this.#layout.current.members().filter((m) => m !== this.self.id && !leaving.has(m));
  }


  /**
   * Takes a decided epoch if it is later than the one held (and of this cluster; a node
   * alone in the ring it founded gives way to a cluster it has met). True if taken.
   */
  adopt(state: TopologyState): boolean {
    const current = this.#state;
    if (state.epoch <= current.epoch) return false;
    const lone = current.epoch === 1 && current.members.length === 1 && current.members[0]!.nonce === this.self.nonce;
    if (current.epoch !== 0 && state.cluster !== current.cluster) {
      if (!lone) return false;
      this.options.env.log.warn("leaving the cluster this node founded alone for the one it met", { cluster: state.cluster });
    }
    this.#state = state;
    this.#layout = new Layout(state, this.options.config.vnodes, this.options.config.replicas);
    if (state.removed.includes(this.selfKey)) {
      // Removed while alive (cut off past the removal delay): it owns nothing any more, and
      // comes back as a new member, which owns only what a transition brings it.
      this.self = { id: this.self.id, nonce: `${this.#birthNonce}-${state.epoch}` };
      this.selfKey = memberKey(this.self);
      this.options.env.log.warn("removed from the ring while alive; asking to join as a new member", { nonce: this.self.nonce });
    }
    this.#member = isRingMember(state, this.self);
    this.#owner = isOwner(state, this.self);
    this.#gate.raise(state.epoch);
    this.#acceptor.advance(state.epoch);
    this.options.env.log.info("ring epoch", { epoch: state.epoch, phase: state.phase, members: state.members.length, next: state.next.length });
    for (const listener of this.#listeners) listener(state, current);
    return true;
  }

  /** The replica gate (gate.ts): throws unless this process may answer a request tagged `tag`. */
  admit(tag: number, from?: string): void {
    this.#gate.admit(tag, from);
  }

  /** Someone is at `epoch`: if it is later than ours, fetch that ring (from `from` first). */
  heard(epoch: number, from?: string): void {
    void this.catchUp(epoch, from);
  }

  /**
   * Tells `peers` that this node holds its epoch: a few bytes each, and a peer behind
   * fetches the ring from here, so each member still decodes each ring once.
   */
  notify(peers: readonly string[]): void {
    const notice: TopologyMessage = { type: "notice", from: this.self, epoch: this.#state.epoch };
    for (const peer of peers) void this.ask(peer, notice);
  }

  /** Resolves once this node holds `epoch` or later, or after `waitMs`, or when no peer had it. */
  catchUp(epoch: number, from?: string, waitMs = 2 * TOPOLOGY_TIMEOUT_MS): Promise<void> {
    return this.#catchUp.chase(epoch, from, waitMs);
  }

  /** The message last sent, and its encoding. */
  #encoded?: { message: TopologyMessage; body: Uint8Array };

  /** Sends one topology message; undefined when the peer does not answer in time. */
  async ask(peer: string, message: TopologyMessage, timeoutMs = TOPOLOGY_TIMEOUT_MS): Promise<TopologyReply | undefined> {
    // A proposer or driver asks every member the same message, which carries the whole ring: encoded once.
    if (this.#encoded?.message !== message) this.#encoded = { message, body: encodeTopologyMessage(message) };
    const { body } = this.#encoded;
    try {
      const reply = await sendWithTimeout(this.options.env, peer, `/_ring/${message.type}`, body, timeoutMs);
      if (reply.status !== 200) return undefined;
      const decoded = decodeTopologyReply(reply.body);
      if (decoded.state) this.adopt(decoded.state);
      return decoded;
    } catch {
      return undefined;
    }
  }

  /** Handles the body of a POST to `/_ring/{kind}`; resolves to the reply body. */
  handle(kind: string, body: Uint8Array): Uint8Array {
    const message = decodeTopologyMessage(body);
    if (message.type !== kind) throw new MessageError(`a ${message.type} message was sent to /_ring/${kind}`);
    return encodeTopologyReply(this.answer(message));
  }

  /** The answer to one message; the driver calls it directly for its own acceptor. */
  answer(message: TopologyMessage): TopologyReply {
    const reply = (extra: Partial<TopologyReply> = {}): TopologyReply => ({
      ref: this.self, epoch: this.#state.epoch, streamed: this.#streamed, leaving: this.#leaving, unreached: this.#unreached, ...extra,
    });
    switch (message.type) {
      case "get":
        return reply({ state: this.#state, nextChange: this.nextChange() });
      case "hello": {
        if (message.leaving) this.hellos.noteLeaving(message.from.id);
        else this.hellos.asking(message.from);
        this.nudge();
        return reply({ state: this.#state });
      }
      case "notice":
        this.heard(message.epoch, message.from.id);
        return reply();
      case "status":
        this.adopt(message.state);
        return reply(this.#state.epoch > message.state.epoch ? { state: this.#state } : {});
      case "prepare":
      case "accept": {
        this.adopt(message.base);
        if (this.#state.epoch > message.base.epoch) return reply({ state: this.#state, refused: "already decided" });
        if (this.#state.epoch < message.base.epoch) return reply({ refused: "another cluster's ring" });
        if (!isAcceptor(this.#state, this.self)) return reply({ refused: `${this.selfKey} is not an acceptor of epoch ${this.#state.epoch}` });
        if (message.type === "prepare") return reply({ prepare: this.#acceptor.prepare(this.#state.epoch, message.ballot) });
        const v = message.value;
        if (v.epoch !== this.#state.epoch + 1 || v.cluster !== this.#state.cluster) return reply({ refused: "not a next epoch of this ring" });
        return reply({ accept: this.#acceptor.accept(this.#state.epoch, message.ballot, v) });
      }
    }
  }
}
