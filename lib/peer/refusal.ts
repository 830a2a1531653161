/**
 * Why a node-to-node message is refused, and the one mapping from those reasons to a status
 * and a JSON body. Every carrier answers through it: a peer stream's reply frame, a batch's
 * per-message replies, the simulator's network, and HTTP (http/errors.ts asks here first),
 * so the replica side never reaches up into lib/http to say no.
 */
import type { PeerReply } from "../env.ts";
import { MisdirectedError } from "../membership/swim_core.ts";
import { LeavingError } from "../replication/replica.ts";
import { NotOwnerError, StaleEpochError } from "../topology/topology.ts";
import { MessageError } from "../wire/fields.ts";
import { ForeignClusterError } from "../wire/label.ts";
import { SealError } from "./keyring.ts";

/** A body over its path's limit, refused before it is read. */
export class BodyTooLargeError extends Error {
  override name = "BodyTooLargeError";
  constructor(readonly maxBytes: number) {
    super(`body is larger than ${maxBytes} bytes`);
  }
}

/** No handler for a path: a 404 naming the ones there are. */
export class UnknownPathError extends Error {
  override name = "UnknownPathError";
  constructor(path: string, known: string[]) {
    super(`no peer message ${JSON.stringify(path)}; a node answers ${known.join(", ")}`);
  }
}

export interface RefusalAnswer {
  status: number;
  body: Record<string, unknown>;
}

/** The status and body for a node-to-node refusal; undefined for any other error. */
export function refusalAnswer(err: unknown): RefusalAnswer | undefined {
  if (err instanceof MessageError) return { status: 400, body: { error: `bad message: ${err.message}` } };
  if (err instanceof SealError) return { status: 401, body: { error: err.message } };
  if (err instanceof ForeignClusterError) return { status: 403, body: { error: err.message, clusterName: err.ours } };
  if (err instanceof UnknownPathError) return { status: 404, body: { error: err.message } };
  if (err instanceof StaleEpochError) return { status: 409, body: { error: err.message, epoch: err.epoch } };
  if (err instanceof BodyTooLargeError) return { status: 413, body: { error: err.message, maxBytes: err.maxBytes } };
  if (err instanceof MisdirectedError || err instanceof NotOwnerError) return { status: 421, body: { error: err.message } };
  if (err instanceof LeavingError) return { status: 503, body: { error: err.message, leaving: true } };
  return undefined;
}

const utf8 = new TextEncoder();

/** A refusal as a node-to-node reply: its status and JSON bytes; anything unnamed is a 500 that hides internals. */
export function refusalReply(err: unknown): PeerReply {
  const { status, body } = refusalAnswer(err) ?? { status: 500, body: { error: "internal error" } };
  return { status, body: utf8.encode(JSON.stringify(body)) };
}
