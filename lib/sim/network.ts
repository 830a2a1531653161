/**
 * An in-process network for the simulator: each message is handed to the receiving node
 * as a peer-stream frame (its `answerFrame`, which dispatches through the same peer table
 * as HTTP), after a seeded delay, unless it is lost, the pair is partitioned or either
 * end is down. A message that never arrives leaves its sender waiting until the sender's
 * own timeout aborts it, exactly as a dead peer does on a real network.
 */
import type { PeerReply, Random, Transport } from "../env.ts";
import type { VirtualClock } from "./clock.ts";

export interface NetworkOptions {
  minDelayMs: number;
  maxDelayMs: number;
  /** Probability that any one message (request or reply) is lost. */
  loss: number;
}

/** How a node answers one message: its path and body in, status and body out. */
export type MessageHandler = (path: string, body: Uint8Array) => Promise<PeerReply>;

export class SimNetwork {
  readonly #handlers = new Map<string, MessageHandler>();
  readonly #down = new Set<string>();
  /** Each node's side in a partition; nodes on different sides cannot talk. */
  readonly #side = new Map<string, number>();
  /** Links cut one by one ("a|b", both directions), beside the partition's sides. */
  readonly #cut = new Set<string>();
  /** Nodes nothing reaches, though what they send arrives. */
  readonly #deaf = new Set<string>();
  /** Extra one-way delay for every message to or from a node. */
  readonly #slow = new Map<string, number>();
  /** A node's own loss, for every message to or from it, beside the network's. */
  readonly #lossy = new Map<string, number>();
  /** Messages sent, per node. */
  readonly sent = new Map<string, number>();
  /** Messages sent, per route. */
  readonly sentByPath = new Map<string, number>();
  /** Bytes sent, per node: request bodies by their senders, replies by the nodes answering. */
  readonly sentBytes = new Map<string, number>();
  /** Bytes sent, per route: request bodies and their replies. */
  readonly sentBytesByPath = new Map<string, number>();

  constructor(readonly clock: VirtualClock, readonly random: Random, public options: NetworkOptions) {}

  attach(id: string, handler: MessageHandler): void {
    this.#handlers.set(id, handler);
    this.#down.delete(id);
  }

  /** The node stops answering and sending: a crash, or a process stopped with SIGSTOP. */
  down(id: string): void {
    this.#down.add(id);
  }

  up(id: string): void {
    this.#down.delete(id);
  }

  isDown(id: string): boolean {
    return this.#down.has(id);
  }

  /** Splits the nodes into groups that cannot reach each other; unlisted nodes form one more. */
  partition(...groups: string[][]): void {
    this.#side.clear();
    groups.forEach((group, i) => group.forEach((id) => this.#side.set(id, i + 1)));
  }

  heal(): void {
    this.#side.clear();
    this.#cut.clear();
    this.#deaf.clear();
  }

  /** One-way links: nothing reaches `ids` (requests or replies), while what they send still arrives. */
  deafen(ids: readonly string[]): void {
    for (const id of ids) this.#deaf.add(id);
  }

  /** Cuts every link between a node of `a` and a node of `b`; other links stay (a bridge can see both). */
  cut(a: readonly string[], b: readonly string[]): void {
    for (const x of a) for (const y of b) this.#cut.add(x < y ? `${x}|${y}` : `${y}|${x}`);
  }

  slow(id: string, extraDelayMs: number): void {
    if (extraDelayMs > 0) this.#slow.set(id, extraDelayMs);
    else this.#slow.delete(id);
  }

  /** Every message to or from `id` is lost with probability `loss` (0: as the rest of the network). */
  lossy(id: string, loss: number): void {
    if (loss > 0) this.#lossy.set(id, loss);
    else this.#lossy.delete(id);
  }

  transport(from: string): Transport {
    return {
      send: (peer, path, body, signal) => this.#send(from, peer, path, body, signal),
      close: async () => {},
    };
  }

  #countBytes(id: string, path: string, bytes: number): void {
    this.sentBytes.set(id, (this.sentBytes.get(id) ?? 0) + bytes);
    this.sentBytesByPath.set(path, (this.sentBytesByPath.get(path) ?? 0) + bytes);
  }

  #canTalk(a: string, b: string): boolean {
    return !this.#down.has(a) && !this.#down.has(b) && (this.#side.get(a) ?? 0) === (this.#side.get(b) ?? 0) &&
      (this.#cut.size === 0 || !this.#cut.has(a < b ? `${a}|${b}` : `${b}|${a}`));
  }

  #lost(a: string, b: string): boolean {
    const loss = this.#lossy.size === 0 ? this.options.loss : Math.max(this.options.loss, this.#lossy.get(a) ?? 0, this.#lossy.get(b) ?? 0);
    return loss > 0 && this.random.next() < loss;
  }

  #delay(a: string, b: string): number {
    const { minDelayMs, maxDelayMs } = this.options;
    const base = minDelayMs + (maxDelayMs - minDelayMs) * this.random.next();
    return base + (this.#slow.get(a) ?? 0) + (this.#slow.get(b) ?? 0);
  }

  #send(from: string, peer: string, path: string, body: Uint8Array, signal?: AbortSignal) {
    this.sent.set(from, (this.sent.get(from) ?? 0) + 1);
    this.sentByPath.set(path, (this.sentByPath.get(path) ?? 0) + 1);
    this.#countBytes(from, path, body.byteLength);
    return new Promise<{ status: number; body: Uint8Array }>((resolve, reject) => {
      let settled = false;
      const abort = () => {
        if (settled) return;
        settled = true;
        reject(new Error(`message to ${peer}${path} aborted`));
      };
      if (signal?.aborted) return abort();
      signal?.addEventListener("abort", abort, { once: true });
      if (this.#down.has(from) || this.#lost(from, peer)) return;

      this.clock.setTimeout(() => {
        const handler = this.#handlers.get(peer);
        if (settled || !handler || !this.#canTalk(from, peer) || this.#deaf.has(peer)) return;
        handler(path, body).then((reply) => {
          this.#countBytes(peer, path, reply.body.byteLength);
          if (this.#lost(peer, from)) return;
          this.clock.setTimeout(() => {
            if (settled || !this.#canTalk(peer, from) || this.#deaf.has(from)) return;
            settled = true;
            signal?.removeEventListener("abort", abort);
            resolve(reply);
          }, this.#delay(peer, from));
        }, () => {});
      }, this.#delay(from, peer));
    });
  }
}
