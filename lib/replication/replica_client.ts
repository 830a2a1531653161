/**
 * The coordinator's side of replica messages: puts and gets to one replica, through the
 * batcher to a peer or straight to the local replica when this node is one. It remembers
 * the latest epoch a replica refused ours for (a 409), which is what the coordinator
 * catches up to before it places an operation again.
 */
import { type Env, sendWithTimeout } from "../env.ts";
import type { Entry } from "../store/store.ts";
import { isGhost } from "../topology/placement.ts";
import { StaleEpochError } from "../topology/topology.ts";
import { Batcher, type BatchReply, DEFAULT_BATCHING, MAX_BATCH_MESSAGES, type Share } from "./batcher.ts";
import type { HintStore } from "./hints.ts";
import {
  decodeAcceptBody,
  decodeBatchReplies,
  decodeCasStateBody,
  decodeGetReply,
  decodePrepareBody,
  decodePutReply,
  encodeBatch,
  encodeKvRequest,
  type GetReply,
  type PutReply,
  refusedEpoch,
} from "../wire/replica.ts";
import type { Replica } from "./replica.ts";
import type { Acceptor } from "../cas/acceptor.ts";
import { type Ballot, compareVersions, type Version } from "../store/version.ts";
import type { AcceptReply, CasState, PrepareReply } from "../wire/cas.ts";
import { BATCH_PATH } from "../wire/paths.ts";

export interface BatchObserver {
  sent(messages: number): void;
  answered(seconds: number): void;
  /** A read joined another's waiting get instead of sending its own. */
  shared(): void;
}

export interface ReplicaClientOptions {
  self: string;
  replica: Replica;
  acceptor: Acceptor;
  hints: HintStore;
  env: Pick<Env, "clock" | "transport">;
  replicaTimeoutMs: number;
  batches?: BatchObserver;
}

/** What a plain get asks, for gets to share (batcher.ts, `join`): a key, in an epoch, from an asker holding `have`. */
export interface GetShare {
  readonly name: string;
  readonly epoch: number;
  readonly have: Version | undefined;
}

/** Whether two gets ask the same: one key, one epoch, and the same version held or none. */
export function sameGet(a: GetShare, b: GetShare): boolean {
  if (a.name !== b.name || a.epoch !== b.epoch) return false;
  if (!a.have || !b.have) return !a.have && !b.have;
  return compareVersions(a.have, b.have) === 0;
}

export class ReplicaClient {
  /** The latest epoch a replica refused ours for, and who said so: what to catch up to. */
  staleEpoch = 0;
  stalePeer: string | undefined;
  readonly self: string;
  readonly #o: ReplicaClientOptions;
  readonly #batcher: Batcher;

  constructor(o: ReplicaClientOptions) {
    this.#o = o;
    this.self = o.self;
    const { env, replicaTimeoutMs, batches } = o;
    this.#batcher = new Batcher(
      async (peer, messages) => {
        batches?.sent(messages.length);
        const started = env.clock.monotonicMs();
        const reply = await sendWithTimeout(env, peer, BATCH_PATH, encodeBatch(messages), replicaTimeoutMs);
        batches?.answered((env.clock.monotonicMs() - started) / 1000);
        if (reply.status !== 200) throw new Error(`${peer}${BATCH_PATH} answered ${reply.status}`);
        return decodeBatchReplies(reply.body, MAX_BATCH_MESSAGES);
      },
      env.clock,
      { ...DEFAULT_BATCHING, timeoutMs: replicaTimeoutMs },
    );
  }

  put(peer: string, key: string, entry: Entry, epoch: number): Promise<PutReply> {
    if (peer === this.self) {
      try {
        return Promise.resolve(this.#o.replica.put(key, entry, epoch));
      } catch (err) {
        this.#noteRefusal(err);
        return Promise.reject(err); // counts as one missing replica
      }
    }
    return this.#send(peer, encodeKvRequest({ type: "put", key, entry, epoch }), decodePutReply);
  }

  /** A put that, should the replica not answer, leaves a hint to replay later. */
  putOrHint(peer: string, key: string, entry: Entry, epoch: number): Promise<PutReply> {
    const put = this.put(peer, key, entry, epoch);
    put.catch(() => this.hint(peer, key, entry));
    return put;
  }

  /**
   * A put each replica stores only above everything it holds, stored or accepted (encoded
   * once for all of them): one promise per peer, resolving to whether it holds this very
   * version now. Any answer that is not "stored" (a newer version, a proposal, a later
   * epoch, a replica too old to know the message) is a refusal; no answer in time rejects,
   * since the entry may have been stored all the same.
   */
  putAbove(peers: readonly string[], key: string, entry: Entry, epoch: number): Array<Promise<boolean>> {
    const request = encodeKvRequest({ type: "put-above", key, entry, epoch });
    return peers.map((peer) => {
      if (isGhost(peer)) return Promise.resolve(false);
      // Held for company as reads are: the write's client waits on nothing else (batcher.ts).
      return this.#batcher.request(peer, request, true).then((reply) => {
        if (reply.status === 409) this.#noteStale(refusedEpoch(reply.body), peer);
        if (reply.status !== 200) return false;
        const { applied, current } = decodePutReply(reply.body);
        return applied || (current !== undefined && compareVersions(current, entry.version) === 0);
      });
    });
  }

  /** Keeps `entry` to replay to `peer` later (hinted handoff), as `putOrHint` does when a put fails. */
  hint(peer: string, key: string, entry: Entry): void {
    if (!isGhost(peer)) this.#o.hints.add(peer, key, entry);
  }

  /**
   * Another replica's entry; `have`: this node's own, which it answers "same" to if it holds
   * that version. `holdable`: a plain read's, which the batcher may hold for company, and
   * which shares the reply of the same get (key, epoch and `have`) still waiting for its
   * batch: the replica reads after this read began either way (batcher.ts, `join`).
   */
  get(peer: string, key: string, epoch: number, have?: Entry, holdable = false): Promise<GetReply> {
    // The decoders are written out twice, not named: tsx (esbuild's keepNames) would name a
    // function held in a const on every call, which costs Node more than the rest of this.
    const share: GetShare | undefined = holdable ? { name: key, epoch, have: have?.version } : undefined;
    const joined = share && this.#batcher.join(peer, share, sameGet);
    if (joined) {
      this.#o.batches?.shared();
      return this.#answer(joined, peer, (body) => decodeGetReply(body, have));
    }
    const request = encodeKvRequest(have ? { type: "get", key, epoch, have: have.version } : { type: "get", key, epoch });
    return this.#send(peer, request, (body) => decodeGetReply(body, have), holdable, share);
  }

  /**
   * Another replica's entry without its value: a writer's first phase needs only versions,
   * and a value may be large. `have` as for `get`. A replica too old to know `head` sends the
   * entry whole, which serves as well. Never shared: a read that joined it would get no value.
   */
  getHead(peer: string, key: string, epoch: number, have?: Entry): Promise<GetReply> {
    const request = encodeKvRequest({ type: "get", key, epoch, have: have?.version, head: true });
    return this.#send(peer, request, (body) => decodeGetReply(body, have));
  }

  /** A conditional write's first phase at one replica: a promise, with what it holds. */
  prepare(peer: string, key: string, ballot: Ballot, epoch: number): Promise<PrepareReply> {
    if (peer === this.self) return this.#locally(() => this.#o.acceptor.prepare(key, ballot, epoch));
    return this.#send(peer, encodeKvRequest({ type: "prepare", key, epoch, ballot }), decodePrepareBody);
  }

  /** A conditional write's second phase at one replica. */
  accept(peer: string, key: string, ballot: Ballot, base: Version | undefined, entry: Entry, epoch: number): Promise<AcceptReply> {
    if (peer === this.self) return this.#locally(() => this.#o.acceptor.accept(key, ballot, base, entry, epoch));
    return this.#send(peer, encodeKvRequest({ type: "accept", key, epoch, ballot, base, entry }), decodeAcceptBody);
  }

  /** A replica's promise and unstored proposal for `key` (operators' view; changes nothing). */
  casState(peer: string, key: string, epoch: number): Promise<CasState> {
    if (peer === this.self) return this.#locally(() => this.#o.acceptor.state(key, epoch));
    return this.#send(peer, encodeKvRequest({ type: "cas-state", key, epoch }), decodeCasStateBody);
  }

  /** This node's own entry, through the same epoch gate as a peer's. */
  local(key: string, epoch: number): GetReply {
    try {
      return this.#o.replica.get(key, epoch);
    } catch (err) {
      this.#noteRefusal(err);
      throw err;
    }
  }

  #locally<T>(answer: () => T): Promise<T> {
    try {
      return Promise.resolve(answer());
    } catch (err) {
      this.#noteRefusal(err);
      return Promise.reject(err);
    }
  }

  #send<T>(peer: string, body: Uint8Array, decode: (b: Uint8Array) => T, holdable = false, share?: Share): Promise<T> {
    if (isGhost(peer)) return Promise.reject(new Error(`${peer.slice(1)} was replaced by a new process`));
    return this.#answer(this.#batcher.request(peer, body, holdable, share), peer, decode);
  }

  #answer<T>(reply: Promise<BatchReply>, peer: string, decode: (b: Uint8Array) => T): Promise<T> {
    return reply.then((reply) => {
      if (reply.status === 409) this.#noteStale(refusedEpoch(reply.body), peer);
      if (reply.status !== 200) throw new Error(`${peer} answered ${reply.status}`);
      return decode(reply.body);
    });
  }

  #noteRefusal(err: unknown): void {
    if (err instanceof StaleEpochError) this.#noteStale(err.epoch, this.self);
  }

  #noteStale(epoch: number, peer: string): void {
    if (epoch > this.staleEpoch) {
      this.staleEpoch = epoch;
      this.stalePeer = peer;
    }
  }
}
