/**
 * How the client tries one request: which node first (an owner of the key, then the other
 * owners, then any member), when to try again (a 503, a refused or failed connection),
 * how long to wait between tries (exponential backoff with jitter), and the bounds on it
 * all. Which failures may be retried depends on the request: a read or an unconditional
 * write may be sent again; a conditional write only when its connection was refused, since
 * otherwise it may have taken effect.
 */

export interface AttemptOptions {
  /** Longest a call may take, its retries included (ms). */
  timeoutMs: number;
  /** Longest one try may take (ms). */
  attemptTimeoutMs: number;
  /** Tries per call, the first included. */
  attempts: number;
  /** The first backoff (ms); each next one doubles, up to `maxBackoffMs`. */
  backoffMs: number;
  maxBackoffMs: number;
}

export const DEFAULT_ATTEMPTS: AttemptOptions = { timeoutMs: 5_000, attemptTimeoutMs: 2_000, attempts: 4, backoffMs: 25, maxBackoffMs: 500 };

/** A call that did not get an answer it could return: the last status or error it met. */
export class DhtError extends Error {
  override name = "DhtError";
  constructor(
    message: string,
    /** The last HTTP status, if a node answered. */
    readonly status?: number,
    /** The last JSON error body, if a node answered with one. */
    readonly body?: unknown,
    /** A write that may or may not have taken effect (its last try failed after it was sent). */
    readonly outcomeUnknown = false,
  ) {
    super(message);
  }
}

/** Whether the request may be sent again after this failure. */
export type Retryable = "always" | "if-refused";

/**
 * The order to try nodes in: the owners (starting at a random one, so reads and writes
 * spread over them), then the other members, then the seeds, each once.
 */
export function tryOrder(owners: readonly string[], members: readonly string[], seeds: readonly string[], random: () => number): string[] {
  const start = owners.length > 0 ? Math.floor(random() * owners.length) : 0;
  const first = [...owners.slice(start), ...owners.slice(0, start)];
  const rest = members.filter((m) => !first.includes(m));
  const shuffled = rest.map((m) => [random(), m] as const).sort((a, b) => a[0] - b[0]).map(([, m]) => m);
  return [...new Set([...first, ...shuffled, ...seeds])];
}

/** The wait before try `n` (1 for the second try): exponential, capped, with full jitter. */
export function backoff(n: number, options: Pick<AttemptOptions, "backoffMs" | "maxBackoffMs">, random: () => number): number {
  const ceiling = Math.min(options.maxBackoffMs, options.backoffMs * 2 ** (n - 1));
  return Math.round(ceiling * (0.5 + random() / 2));
}

/**
 * Whether a failed fetch never reached the node: the connection was refused. Each runtime
 * says so its own way: Node (undici) in `cause.code`, Bun in `code`, Deno in the cause's
 * message.
 */
export function refused(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown; cause?: { code?: unknown; message?: unknown } } | undefined;
  const said = [e?.code, e?.cause?.code, e?.message, e?.cause?.message].filter((s): s is string => typeof s === "string");
  return said.some((s) => /ECONNREFUSED|ConnectionRefused|connection refused/i.test(s));
}

export interface Attempt {
  /** Sends the request to this node (`host:port`) within `signal`. */
  send(node: string, signal: AbortSignal): Promise<Response>;
  order: readonly string[];
  /** A write: one that fails after it was sent may have taken effect. */
  write: boolean;
  retryable: Retryable;
  /** Told of each failure, so the ring can be read again. */
  failed(node: string): void;
}

/** Tries `a` on its nodes in order until one answers with something other than 503, within the bounds. */
export async function attempt(a: Attempt, options: AttemptOptions, clock: { now(): number; sleep(ms: number): Promise<void>; random(): number }): Promise<Response> {
  const deadline = clock.now() + options.timeoutMs;
  let sent = false;
  let last = "no node was tried";
  let status: number | undefined;
  let body: unknown;
  const fail = () => new DhtError(last, status, body, a.write && sent);
  for (let n = 0; n < options.attempts; n++) {
    if (n > 0) await clock.sleep(Math.min(backoff(n, options, clock.random), Math.max(0, deadline - clock.now())));
    const left = deadline - clock.now();
    if (left <= 0) break;
    const node = a.order[n % a.order.length]!;
    let response: Response;
    try {
      response = await a.send(node, AbortSignal.timeout(Math.min(options.attemptTimeoutMs, left)));
    } catch (err) {
      const wasRefused = refused(err);
      sent ||= !wasRefused;
      last = `${node}: ${(err as Error)?.message ?? String(err)}`;
      a.failed(node);
      if (a.retryable === "if-refused" && !wasRefused) throw fail();
      continue;
    }
    if (response.status !== 503) return response;
    sent = true;
    status = 503;
    body = await response.json().catch(() => undefined);
    last = `${node} answered 503: ${errorOf(body) ?? "unavailable"}`;
    a.failed(node);
    if (a.retryable === "if-refused") throw fail();
  }
  throw fail();
}

/** The `error` a node's JSON error body gives, if it gives one. */
export function errorOf(body: unknown): string | undefined {
  const error = (body as { error?: unknown } | undefined)?.error;
  return typeof error === "string" ? error : undefined;
}
