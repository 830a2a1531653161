/**
 * The proposer's side of the Paxos that decides each epoch (the acceptor's is paxos.ts and
 * topology.ts): one value for the epoch after `base`, by a majority of `base`'s acceptors
 * (its council, or every member of a small ring: council.ts).
 * The driver proposes the planner's steps through it; an operator's `recover` proposes
 * through it too. Two proposers at once are safe: one value per epoch.
 */
import { ringPosition } from "../ring/hash.ts";
import type { Logger } from "../log.ts";
import type { TopologyMessage, TopologyReply } from "../wire/ring.ts";
import { type Ballot, type PrepareReply, valueToPropose } from "./paxos.ts";
import { chooseCouncil } from "./council.ts";
import { acceptors, majority, memberKey, type MemberRef, type TopologyState } from "./state.ts";
import type { Topology } from "./topology.ts";

export class Proposer {
  /** Highest ballot round seen, so the next proposal goes above it. */
  #round = 0;

  constructor(
    readonly topology: Topology,
    readonly log: Logger,
    /** Whether SWIM holds a member dead or gone: its vote could only arrive after a timeout, so none is asked. */
    readonly silent: (id: string) => boolean,
    /** Whether a member may sit on the council of a value this node proposes: alive to it, and not leaving. */
    readonly usable: (m: MemberRef) => boolean,
  ) {}

  /** Ticks a proposer that lost a ballot sits out, by its own id, so of two proposers one usually goes first. */
  get backoffTicks(): number {
    return 1 + Number(ringPosition(this.topology.selfKey) % 4n);
  }

  /**
   * Single-decree Paxos for the epoch after `base`, for `proposal` with a council this node
   * chooses (council.ts); resolves to the decided value, or why none was.
   */
  async decide(base: TopologyState, proposal: TopologyState): Promise<{ decided: TopologyState } | { lost: string }> {
    const { topology } = this;
    const council = chooseCouncil(proposal, this.usable);
    const value: TopologyState = { ...proposal };
    if (council.length > 0) value.council = council;
    else delete value.council;
    const voters = acceptors(base);
    const voterKeys = new Set(voters.map(memberKey));
    const need = majority(voters.length);
    const ballot: Ballot = { round: ++this.#round, by: topology.selfKey };

    const counts = (kind: "prepare" | "accept") => (r: TopologyReply) => r[kind]?.ok === true && voterKeys.has(memberKey(r.ref));
    const prepares = await this.#askAll(voters, { type: "prepare", from: topology.self, base, ballot }, counts("prepare"), need);
    if (topology.state !== base) return { lost: "a later epoch arrived" };
    const promises: PrepareReply[] = [];
    for (const r of prepares) {
      if (!r.prepare || !voterKeys.has(memberKey(r.ref))) continue;
      if (r.prepare.ok) promises.push(r.prepare);
      else this.#saw(r.prepare.promised);
    }
    if (promises.length < need) return this.#lost(`prepare: ${promises.length} of ${need} promises`);

    const chosen = valueToPropose(promises, value);
    const accepts = await this.#askAll(voters, { type: "accept", from: topology.self, base, ballot, value: chosen }, counts("accept"), need);
    if (topology.state !== base) return { lost: "a later epoch arrived" };
    let accepted = 0;
    for (const r of accepts) {
      if (!r.accept || !voterKeys.has(memberKey(r.ref))) continue;
      if (r.accept.ok) accepted++;
      else this.#saw(r.accept.promised);
    }
    if (accepted < need) return this.#lost(`accept: ${accepted} of ${need}`);

    topology.adopt(chosen);
    // Tell both councils (every member, in a small ring) and pinned ranges' owners now: the
    // owners whose ranges move hear it from the driver's next poll, everyone else from the
    // notices each node passes on (topology.ts, notify), so no node sends a message per member.
    const pinOwners = chosen.pins.flatMap((p) => [...p.members, ...p.next]);
    const told = new Map([...acceptors(base), ...acceptors(chosen), ...pinOwners].map((m) => [m.id, m]));
    told.delete(topology.self.id);
    const status: TopologyMessage = { type: "status", from: topology.self, state: chosen };
    void Promise.all([...told.keys()].map((id) => topology.ask(id, status)));
    return chosen === value ? { decided: chosen } : { lost: "an earlier proposal's value was decided instead" };
  }

  /**
   * Sends a message to every voter SWIM does not hold dead, at once (this node's own acceptor
   * answers directly); resolves with the replies so far once `need` of them are `yes`, or once
   * every voter has answered or timed out. Waiting for all would make one lost message of
   * hundreds cost every phase a timeout; a majority is all Paxos asks.
   */
  #askAll(voters: readonly MemberRef[], message: TopologyMessage, yes: (r: TopologyReply) => boolean, need: number): Promise<TopologyReply[]> {
    const { topology } = this;
    const replies: TopologyReply[] = [];
    let yeses = 0;
    let pending = voters.length;
    return new Promise((resolve) => {
      const settle = (r: TopologyReply | undefined) => {
        pending--;
        if (r) {
          replies.push(r);
          if (yes(r)) yeses++;
        }
        if (yeses >= need || pending === 0) resolve([...replies]);
      };
      if (pending === 0) resolve([]);
      for (const m of voters) {
        if (memberKey(m) === topology.selfKey) settle(topology.answer(message));
        else if (m.id === topology.self.id || this.silent(m.id)) settle(undefined);
        else void topology.ask(m.id, message).then(settle);
      }
    });
  }

  #saw(promised: Ballot | undefined): void {
    if (promised && promised.round > this.#round) this.#round = promised.round;
  }

  #lost(why: string): { lost: string } {
    this.log.debug("ring proposal not decided", { why });
    return { lost: why };
  }
}
