/**
 * Replica messages to one peer, coalesced: while a few batches to a peer are in flight,
 * new messages wait and leave together in the next one, as one `POST /_kv/batch`. An idle
 * peer gets each message at once, alone, so batching adds no latency at low load; under
 * load the cost of an HTTP exchange (the larger part of a small message's cost) is paid
 * once per batch instead of once per message. Cassandra and ScyllaDB coalesce the same way.
 * Under load, reads (and one-round writes) that follow a full round of them wait briefly for
 * the rest of their round (`request`'s `holdable`), so frames stay full instead of
 * alternating with singletons. A read may also share the reply of an identical read still
 * waiting for its batch (`join`): a hot key read by many clients costs one message a round.
 */
import type { Clock, TimerHandle } from "../env.ts";
import { MessageError } from "../wire/fields.ts";

/** A sub-message's answer: the status its own route would have given, and its body. */
export interface BatchReply {
  status: number;
  body: Uint8Array;
}

/** Sends one batch; rejects when the whole batch failed (timeout, unreachable peer). */
export type SendBatch = (peer: string, messages: Uint8Array[]) => Promise<BatchReply[]>;

export interface BatcherOptions {
  /** Batches to one peer in flight at once before new messages wait. */
  maxInFlight: number;
  /** Most messages in one batch. */
  maxMessages: number;
  /** Most bytes of messages in one batch (a larger message goes alone). */
  maxBytes: number;
  /**
   * A message that has waited this long for a batch fails instead of being sent (a batch in
   * flight fails by its own timeout), so no message waits much longer than a lone one would.
   */
  timeoutMs: number;
  /** Longest a round is held for its stragglers (see `request`); 0: never held. */
  holdMs: number;
  /** Messages waiting for one peer at most; past it a message fails at once (the peer is not keeping up). */
  maxWaiting: number;
}

export const MAX_BATCH_MESSAGES = 128;
/** Histogram bounds for messages per batch (`dht_replica_batch_messages`). */
export const BATCH_SIZE_BUCKETS = [1, 2, 4, 8, 16, 32, 64, MAX_BATCH_MESSAGES];
/** How many of the newest waiting messages `join` looks through. */
export const SHARE_SCAN = 32;
/** Messages waiting for one peer at most (a few hundred is a busy node's usual depth). */
export const MAX_WAITING_PER_PEER = 10_000;
/**
 * One batch in flight per peer: on peer streams, fewer and fuller frames beat more
 * overlap (docs/benchmarks.md has the comparison).
 */
export const DEFAULT_BATCHING: Omit<BatcherOptions, "timeoutMs"> = {
  maxInFlight: 1,
  maxMessages: MAX_BATCH_MESSAGES,
  maxBytes: 1024 * 1024,
  holdMs: 1,
  maxWaiting: MAX_WAITING_PER_PEER,
};

export class BatchWaitTimeout extends Error {
  override name = "BatchWaitTimeout";
}

export class BatchQueueFull extends Error {
  override name = "BatchQueueFull";
}

interface Waiting {
  message: Uint8Array;
  queuedAt: number;
  holdable: boolean;
  resolve(reply: BatchReply): void;
  reject(err: unknown): void;
  /** What other requests sharing this message's reply (`join`) are given. */
  reply: Promise<BatchReply>;
  /** What it may be joined as, and how many requests joined it. */
  share?: Share;
  joined: number;
}

/**
 * What a message others may share while it waits asks (`join`): its name (a read's key),
 * and whatever else `join`'s caller compares (a read's epoch and the version it holds).
 */
export interface Share {
  readonly name: string;
}

interface PeerQueue {
  waiting: Waiting[];
  inFlight: number;
  /** While above 0, held reads leave once this many requests wait (or the hold times out). */
  holdFor: number;
  holdTimer?: TimerHandle;
  /** Requests that joined a waiting message: with `waiting.length`, the requests waiting. */
  joined: number;
}

/**
 * The newest of the last SHARE_SCAN waiting messages whose share is the `same` as `share`.
 * Only the newest few: a hot key's reads follow one another closely. A scan costs less
 * than keeping a map of names beside the queue, which cost reads of many keys more than
 * sharing saved (docs/benchmarks.md).
 */
function sharedWaiting<S extends Share>(waiting: readonly Waiting[], share: S, same: (queued: S, share: S) => boolean): Waiting | undefined {
  for (let i = waiting.length - 1; i >= Math.max(0, waiting.length - SHARE_SCAN); i--) {
    const queued = waiting[i]!.share;
    if (queued !== undefined && queued.name === share.name && same(queued as S, share)) return waiting[i];
  }
  return undefined;
}

/** Requests answered by these messages: each one's own, and those that joined it. */
const requestsIn = (messages: readonly Waiting[]) => messages.reduce((n, w) => n + 1 + w.joined, 0);

export class Batcher {
  readonly #peers = new Map<string, PeerQueue>();

  constructor(
    private readonly send: SendBatch,
    private readonly clock: Pick<Clock, "monotonicMs" | "setTimeout" | "clearTimeout">,
    private readonly options: BatcherOptions,
  ) {}

  /**
   * Sends `message` to `peer`, alone or with others; resolves with its own reply.
   *
   * `holdable`: a message whose client waits on nothing else (a plain read, a one-round
   * write's `put-above`). When a batch made only of such messages comes back, the next one
   * is held until as many requests are waiting as that round answered (holdMs at most):
   * under load, each answered client is about to send another, and sending the first of
   * them alone made everyone else wait a whole round trip behind it (most batches carried
   * one message; frames cost CPU in the kernel and the runtime, not in the messages). A
   * one-round write sends one message to each other owner, so its round refills each of
   * their queues. Other writes are never held: their messages go to several replicas in
   * two phases, so their round never refills one queue.
   *
   * `share`: what other requests may `join` this message as while it waits.
   */
  request(peer: string, message: Uint8Array, holdable = false, share?: Share): Promise<BatchReply> {
    let queue = this.#peers.get(peer);
    if (!queue) this.#peers.set(peer, (queue = { waiting: [], inFlight: 0, holdFor: 0, joined: 0 }));
    const q = queue;
    if (q.waiting.length >= this.options.maxWaiting) {
      return Promise.reject(new BatchQueueFull(`${q.waiting.length} messages already wait for ${peer}`));
    }
    const queuedAt = this.clock.monotonicMs();
    let w!: Waiting;
    const reply = new Promise<BatchReply>((resolve, reject) => {
      w = { message, queuedAt, holdable, resolve, reject, reply: undefined!, share, joined: 0 };
    });
    w.reply = reply;
    q.waiting.push(w);
    this.#arrived(peer, q, holdable);
    return reply;
  }

  /**
   * The reply of a message queued for `peer` whose share (`request`) is the `same` as
   * `share`, if it still waits for its batch; undefined once it has left. A request that
   * joins it is answered by a replica reading after the request began, which is what lets
   * identical reads share one message: one that left before the request began could answer
   * from before a write the request must see.
   */
  join<S extends Share>(peer: string, share: S, same: (queued: S, share: S) => boolean): Promise<BatchReply> | undefined {
    const q = this.#peers.get(peer);
    const w = q && sharedWaiting(q.waiting, share, same);
    if (!q || !w) return undefined;
    w.joined++;
    q.joined++;
    this.#arrived(peer, q, w.holdable);
    return w.reply;
  }

  /** A request was queued: send now, later with company, or when a batch comes back. */
  #arrived(peer: string, q: PeerQueue, holdable: boolean): void {
    if (q.inFlight >= this.options.maxInFlight) return; // leaves when a batch comes back
    if (q.holdFor > 0) {
      if (holdable && q.waiting.length + q.joined < q.holdFor) return;
      this.#endHold(q);
    } else if (q.waiting.length + q.joined > 1) return; // a flush is already on its way
    // Messages made in this same turn (several keys of one client request) go together.
    void Promise.resolve().then(() => this.#flush(peer, q));
  }

  #endHold(q: PeerQueue): void {
    q.holdFor = 0;
    if (q.holdTimer !== undefined) this.clock.clearTimeout(q.holdTimer);
    q.holdTimer = undefined;
  }

  /** After a batch came back with `round`'s messages: hold the next, or send it now. */
  #next(peer: string, q: PeerQueue, round: Waiting[]): void {
    const waiting = q.waiting.length + q.joined;
    const out = Math.min(requestsIn(round) + waiting, this.options.maxMessages);
    const allHoldable = round.every((w) => w.holdable) && q.waiting.every((w) => w.holdable);
    const holdable = this.options.holdMs > 0 && out > 1 && waiting < out && allHoldable;
    if (!holdable) return this.#sendOrForget(peer, q);
    q.holdFor = out;
    q.holdTimer = this.clock.setTimeout(() => {
      q.holdTimer = undefined;
      this.#endHold(q);
      this.#sendOrForget(peer, q);
    }, this.options.holdMs);
  }

  /** Sends what waits; a queue with nothing waiting or in flight is dropped. */
  #sendOrForget(peer: string, q: PeerQueue): void {
    if (q.waiting.length > 0) this.#flush(peer, q);
    else if (q.inFlight === 0) this.#peers.delete(peer);
  }

  #flush(peer: string, q: PeerQueue): void {
    while (q.waiting.length > 0 && q.inFlight < this.options.maxInFlight) {
      const batch = this.#take(q);
      if (batch.length === 0) break;
      q.inFlight++;
      this.send(peer, batch.map((w) => w.message)).then(
        (replies) => {
          if (replies.length !== batch.length) throw new MessageError(`a batch of ${batch.length} got ${replies.length} replies`);
          batch.forEach((w, i) => w.resolve(replies[i]!));
        },
      ).catch((err) => {
        for (const w of batch) w.reject(err);
      }).finally(() => {
        q.inFlight--;
        if (q.holdFor > 0) return; // another batch's return is already holding this queue
        this.#next(peer, q, batch);
      });
    }
  }

  /** The oldest waiting messages that fit in one batch; from now on none of them can be joined. */
  #take(q: PeerQueue): Waiting[] {
    const tooOld = this.clock.monotonicMs() - this.options.timeoutMs;
    while (q.waiting.length > 0 && q.waiting[0]!.queuedAt <= tooOld) {
      const w = q.waiting.shift()!;
      this.#leave(q, w);
      w.reject(new BatchWaitTimeout(`waited over ${this.options.timeoutMs} ms for a batch`));
    }
    let bytes = 0;
    let n = 0;
    while (n < q.waiting.length && n < this.options.maxMessages) {
      const size = q.waiting[n]!.message.byteLength;
      if (n > 0 && bytes + size > this.options.maxBytes) break;
      bytes += size;
      n++;
    }
    const batch = q.waiting.splice(0, n);
    for (const w of batch) this.#leave(q, w);
    return batch;
  }

  /** `w` left the queue (sent, or failed waiting): it can no longer be joined. */
  #leave(q: PeerQueue, w: Waiting): void {
    q.joined -= w.joined;
  }
}
