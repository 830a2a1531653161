/**
 * Everything outside the process that the core touches: time, randomness, the peer
 * transport and the log. Production passes the runtime's own (see `realEnv`), the
 * simulator passes virtual ones, so the same core runs in both.
 */
import type { Logger } from "./log.ts";

/** Wall-clock time for versions and expiry, a monotonic clock for durations, and timers. */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /** Milliseconds from an arbitrary origin, never going backwards: for measuring durations. */
  monotonicMs(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** Opaque: whatever the clock's setTimeout returned. */
export type TimerHandle = unknown;

/** A seedable source of uniform numbers in [0, 1). */
export interface Random {
  next(): number;
}

/** Bytes back from a peer's internal route. */
export interface PeerReply {
  status: number;
  body: Uint8Array;
}

/**
 * Node-to-node messages: POST `body` to `http(s)://{peer}{path}` and return the reply.
 * On Bun and Deno this wraps `fetch`; on Node it is built on undici's keep-alive Pool,
 * because Node 20's global fetch is an order of magnitude slower for small POSTs.
 */
export interface Transport {
  send(peer: string, path: string, body: Uint8Array, signal?: AbortSignal): Promise<PeerReply>;
  close(): Promise<void>;
}

/**
 * One message to a peer, abandoned after `timeoutMs` on the given clock: rejects on a
 * timeout, an unreachable peer or a transport error; any status is returned as it is.
 */
export async function sendWithTimeout(
  env: { clock: Clock; transport: Transport },
  peer: string,
  path: string,
  body: Uint8Array,
  timeoutMs: number,
): Promise<PeerReply> {
  const controller = new AbortController();
  const timer = env.clock.setTimeout(() => controller.abort(), timeoutMs);
  try {
    return await env.transport.send(peer, path, body, controller.signal);
  } finally {
    env.clock.clearTimeout(timer);
  }
}

export interface Env {
  clock: Clock;
  random: Random;
  transport: Transport;
  log: Logger;
}

/** The runtime's own clock. Only this file may name the global timers. */
export const realClock: Clock = {
  now: () => Date.now(),
  monotonicMs: () => performance.now(),
  setTimeout: (fn, ms) => {
    const handle = setTimeout(fn, ms);
    // A pending timer must not keep a stopping process alive (Node and Bun; Deno has no unref on numbers).
    (handle as { unref?: () => void }).unref?.();
    return handle;
  },
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export const realRandom: Random = { next: () => Math.random() };

/** Fisher-Yates: `items` shuffled in place by `random`, and returned. */
export function shuffle<T>(random: Random, items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random.next() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

/**
 * mulberry32: a tiny seeded generator, good enough for shuffles and jitter and fully
 * reproducible, which is what the simulator and property tests need.
 */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  return {
    next() {
      state = (state + 0x6d2b79f5) >>> 0;
      let t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    },
  };
}

export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

/**
 * The peer transport for runtimes whose `fetch` is fast enough (Bun, Deno); `https` when the
 * nodes serve TLS (`--tls-cert`), with `fetchFn` trusting the CA they are signed by.
 */
export function fetchTransport(fetchFn: FetchLike = (input, init) => fetch(input, init), scheme: "http" | "https" = "http"): Transport {
  return {
    async send(peer, path, body, signal) {
      const response = await fetchFn(`${scheme}://${peer}${path}`, {
        method: "POST",
        headers: { "content-type": "application/msgpack" },
        body: body as Uint8Array<ArrayBuffer>,
        signal,
      });
      return { status: response.status, body: new Uint8Array(await response.arrayBuffer()) };
    },
    async close() {},
  };
}

/** Writes one line per call to standard output. */
export type LineSink = (line: string) => void;

export const consoleSink: LineSink = (line) => console.log(line);
