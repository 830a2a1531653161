import { MessageError } from "../membership/messages.ts";
import { MisdirectedError } from "../membership/swim.ts";
import { QuorumError } from "../replication/quorum.ts";
import { LeavingError } from "../replication/replica.ts";

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

/** The one mapping from errors to statuses. Anything unnamed is a 500 that hides internals. */
export function errorResponse(err: unknown): Response {
  if (err instanceof BadRequestError) return jsonResponse(400, { error: err.message });
  if (err instanceof KeyTooLongError) {
    return jsonResponse(414, { error: err.message, bytes: err.bytes, maxBytes: err.maxBytes });
  }
  if (err instanceof ValueTooLargeError) {
    // The body may not have been read to its end: ask the client not to reuse the connection.
    return jsonResponse(413, { error: err.message, maxBytes: err.maxBytes }, { connection: "close" });
  }
  if (err instanceof NotFoundError) return jsonResponse(404, { error: err.message });
  if (err instanceof MethodNotAllowedError) {
    return jsonResponse(405, { error: err.message }, { allow: err.allow.join(", ") });
  }
  if (err instanceof MessageError) return jsonResponse(400, { error: `bad message: ${err.message}` });
  if (err instanceof MisdirectedError) return jsonResponse(421, { error: err.message });
  if (err instanceof LeavingError) return jsonResponse(503, { error: err.message, leaving: true });
  if (err instanceof QuorumError) {
    return jsonResponse(503, { error: err.message, answered: err.answered, needed: err.needed });
  }
  return jsonResponse(500, { error: "internal error" });
}
