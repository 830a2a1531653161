/**
 * A whole cluster in one process: real nodes (`createNode`, the same code that serves HTTP)
 * on one virtual clock and one simulated network, deterministic from a seed.
 */
import { type Config, defaultConfig } from "../config.ts";
import { seededRandom } from "../env.ts";
import { createLogger, type Logger, silentLogger } from "../log.ts";
import type { MemberState } from "../membership/member.ts";
import { createNode, type DhtNode, type NodeOptions } from "../node.ts";
import { VirtualClock } from "./clock.ts";
import { type MessageHandler, type NetworkOptions, SimNetwork } from "./network.ts";
import { decodeReplyFrame, encodeRequestFrame } from "../wire/frames.ts";

export interface SimOptions {
  seed: number;
  /** Lets pending promise jobs run; see VirtualClock.run. */
  settle: () => Promise<void>;
  network?: Partial<NetworkOptions>;
  /** Config for every node (ports and introducers are filled in). */
  config?: Partial<Config>;
  /** Where log lines go; silent by default. */
  logSink?: (line: string) => void;
  /** How far node `index`'s wall clock is off (its timers still run on shared time). */
  skewMs?: (index: number) => number;
  /** Extra options for every node (a test's own placer, say). */
  node?: Pick<NodeOptions, "placer" | "plan" | "conditional" | "casFaults">;
}

export class SimCluster {
  readonly clock = new VirtualClock();
  readonly network: SimNetwork;
  readonly nodes = new Map<string, DhtNode>();
  readonly #options: SimOptions;
  #created = 0;

  constructor(options: SimOptions) {
    this.#options = options;
    this.network = new SimNetwork(this.clock, seededRandom(options.seed * 7919 + 1), {
      minDelayMs: 1,
      maxDelayMs: 5,
      loss: 0,
      ...options.network,
    });
  }

  static id(index: number): string {
    return `10.0.${Math.floor(index / 250)}.${(index % 250) + 1}:7000`;
  }

  /** Starts a node that joins through `introducers` (default: the first node, if any); `config`: its own settings over the cluster's. */
  add(introducers?: string[], config?: Partial<Config>, options?: Pick<NodeOptions, "keyring">): DhtNode {
    const index = this.#created++;
    return this.#start(SimCluster.id(index), index, introducers, undefined, config, options);
  }

  /**
   * A new process at a crashed node's address: same id, empty memory, incarnation 0, and a
   * new nonce (`sameNonce`: the old one, as a process that forgot it was restarted would
   * claim, for tests that show what the nonce prevents).
   */
  restart(id: string, { sameNonce = false, config }: { sameNonce?: boolean; config?: Partial<Config> } = {}): DhtNode {
    if (this.nodes.has(id)) throw new Error(`${id} is still running`);
    const old = this.#nonces.get(id);
    return this.#start(id, this.#created++, undefined, sameNonce ? old : undefined, config);
  }

  readonly #nonces = new Map<string, string>();

  #start(id: string, index: number, introducers?: string[], nonce = `p${index}`, own?: Partial<Config>, options?: Pick<NodeOptions, "keyring">): DhtNode {
    this.#nonces.set(id, nonce);
    const first = SimCluster.id(0);
    const config = defaultConfig({
      port: 7000,
      ...this.#options.config,
      ...own,
      advertise: id,
      introducers: introducers ?? (id === first ? [] : [first]),
    });
    const skew = this.#options.skewMs?.(index) ?? 0;
    const clock = skew === 0 ? this.clock : {
      now: () => this.clock.now() + skew,
      monotonicMs: () => this.clock.monotonicMs(),
      setTimeout: (fn: () => void, ms: number) => this.clock.setTimeout(fn, ms),
      clearTimeout: (handle: unknown) => this.clock.clearTimeout(handle),
    };
    const node = createNode(config, {
      clock,
      random: seededRandom(this.#options.seed * 1_000_003 + index),
      transport: this.network.transport(id),
      log: this.#logger(id),
    }, { runtime: "sim", nonce, ...this.#options.node, ...options });
    this.nodes.set(id, node);
    this.network.attach(id, overFrames(node));
    node.start();
    return node;
  }

  /** Adds `count` nodes, `spacingMs` of virtual time apart. */
  async grow(count: number, spacingMs = 100): Promise<void> {
    for (let i = 0; i < count; i++) {
      this.add();
      await this.run(spacingMs);
    }
  }

  run(ms: number): Promise<void> {
    return this.clock.run(ms, this.#options.settle);
  }

  /**
   * Runs virtual time until `work` settles, and resolves as it does; fails saying `what`
   * had no answer if it has not settled after `limitMs` of virtual time (never hangs).
   */
  async runUntil<T>(work: T | Promise<T>, what: string, limitMs = 10_000, stepMs = 5): Promise<T> {
    let done = false;
    // An answer given in the same turn (a node's fetch can) is settled at once.
    const watched = Promise.resolve(work).finally(() => (done = true));
    watched.catch(() => {}); // awaited below; a rejection before then is not unhandled
    const start = this.clock.now();
    while (!done && this.clock.now() - start < limitMs) await this.run(stepMs);
    if (!done) throw new Error(`${what} had no answer after ${limitMs} ms of virtual time`);
    return watched;
  }

  /** Kills a node without a word: its timers stop and the network drops it. */
  async crash(id: string): Promise<void> {
    this.network.down(id);
    await this.nodes.get(id)!.stop();
    this.nodes.delete(id);
  }

  /**
   * A graceful leave, as on SIGTERM: hand-off, `left`, stop; virtual time runs meanwhile.
   * `during` runs once the leave has begun (it must run virtual time itself to get anywhere).
   */
  async leave(id: string, during?: () => Promise<void>): Promise<void> {
    const leaving = this.nodes.get(id)!.leave();
    leaving.catch(() => {});
    if (during) await during();
    // The leave is bounded by --leave-timeout-ms; a minute more means it hangs.
    await this.runUntil(leaving, `the leave of ${id}`, 60_000 + (this.#options.config?.leaveTimeoutMs ?? 30_000), 50);
    this.network.down(id);
    this.nodes.delete(id);
  }

  /** Each live node's view of `id`: its state there (undefined when unknown). */
  viewsOf(id: string): Map<string, MemberState | undefined> {
    const views = new Map<string, MemberState | undefined>();
    for (const [observer, node] of this.nodes) {
      if (observer === id || this.network.isDown(observer)) continue;
      views.set(observer, node.swim.member(id)?.state);
    }
    return views;
  }

  /** Live nodes, excluding `except`. */
  liveIds(except: string[] = []): string[] {
    return [...this.nodes.keys()].filter((id) => !except.includes(id) && !this.network.isDown(id));
  }

  #logger(id: string): Logger {
    const sink = this.#options.logSink;
    if (!sink) return silentLogger;
    return createLogger({ format: "text", level: "info", now: () => this.clock.now(), sink, base: { node: id } });
  }
}

/**
 * Messages reach a node as peer-stream frames, the carrier replica batches take in
 * production: through its frame responder and the peer table every carrier shares.
 */
export function overFrames(node: DhtNode): MessageHandler {
  let nextId = 0;
  return async (path, body) => {
    nextId = (nextId + 1) >>> 0;
    const reply = decodeReplyFrame(await node.answerFrame(encodeRequestFrame(nextId, path, body)));
    return { status: reply.status, body: reply.body };
  };
}
