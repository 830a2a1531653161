import { QuorumError } from "../replication/quorum.ts";
import { OutcomeUnknownError } from "../cas/propose.ts";
import { NoRingError } from "../topology/placer.ts";
import { refusalAnswer } from "../peer/refusal.ts";

/**
 * The few things that can go wrong with a request, each a named error, and the one place
 * that turns them into HTTP answers: a status and a small JSON body `{"error": ...}`.
 */

export class BadRequestError extends Error {
  override name = "BadRequestError";
}

export class KeyTooLongError extends Error {
  override name = "KeyTooLongError";
  constructor(readonly bytes: number, readonly maxBytes: number) {
    super(`key is ${bytes} bytes; the limit is ${maxBytes}`);
  }
}

export class ValueTooLargeError extends Error {
  override name = "ValueTooLargeError";
  constructor(readonly maxBytes: number) {
    super(`value is larger than ${maxBytes} bytes`);
  }
}

export class NotFoundError extends Error {
  override name = "NotFoundError";
}

/** A conditional write whose condition did not hold: 412 with the version the key holds (null: none). */
export class PreconditionFailedError extends Error {
  override name = "PreconditionFailedError";
  constructor(message: string, readonly current: string | null) {
    super(message);
  }
}

export class MethodNotAllowedError extends Error {
  override name = "MethodNotAllowedError";
  constructor(message: string, readonly allow: string[]) {
    super(message);
  }
}

export function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}

/** A node-to-node reply body. */
export function msgpackResponse(bytes: Uint8Array): Response {
  return new Response(bytes as Uint8Array<ArrayBuffer>, { headers: { "content-type": "application/msgpack" } });
}

/** An error's answer, before it becomes a Response (peer streams send it as bytes). */
export interface ErrorAnswer {
  status: number;
  body: Record<string, unknown>;
  headers?: Record<string, string>;
}

/** The one mapping from errors to statuses. Anything unnamed is a 500 that hides internals. */
export function errorAnswer(err: unknown): ErrorAnswer {
  const refusal = refusalAnswer(err); // a node-to-node refusal answers the same on every carrier
  if (refusal) return refusal;
  if (err instanceof BadRequestError) return { status: 400, body: { error: err.message } };
  if (err instanceof KeyTooLongError) return { status: 414, body: { error: err.message, bytes: err.bytes, maxBytes: err.maxBytes } };
  if (err instanceof ValueTooLargeError) {
    // The body may not have been read to its end: ask the client not to reuse the connection.
    return { status: 413, body: { error: err.message, maxBytes: err.maxBytes }, headers: { connection: "close" } };
  }
  if (err instanceof NotFoundError) return { status: 404, body: { error: err.message } };
  if (err instanceof PreconditionFailedError) return { status: 412, body: { error: err.message, current: err.current } };
  if (err instanceof MethodNotAllowedError) return { status: 405, body: { error: err.message }, headers: { allow: err.allow.join(", ") } };
  if (err instanceof NoRingError) return { status: 503, body: { error: err.message, epoch: 0 } };
  if (err instanceof OutcomeUnknownError) return { status: 503, body: { error: err.message, outcomeUnknown: true, ...err.detail } };
  if (err instanceof QuorumError) return { status: 503, body: { error: err.message, answered: err.answered, needed: err.needed, ...err.detail } };
  return { status: 500, body: { error: "internal error" } };
}

export function errorResponse(err: unknown): Response {
  const { status, body, headers } = errorAnswer(err);
  return jsonResponse(status, body, headers);
}
