/**
 * The cluster label every node-to-node body carries, requests and replies alike (as
 * memberlist's label): a mark byte no msgpack value starts with (0xc1, "never used"), the
 * name's length, the name, then the message. In the clear, for routing and refusal; the
 * keyring will bind it to the message as associated data.
 */
import { MessageError, startsWith } from "./fields.ts";

const MARK = 0xc1;
/** The longest cluster name, in bytes (config.ts allows 64 ASCII characters). */
export const MAX_CLUSTER_NAME_BYTES = 64;

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

/** The label's bytes for a name, made once per node. */
export function labelFor(name: string): Uint8Array {
  const bytes = utf8.encode(name);
  if (bytes.byteLength < 1 || bytes.byteLength > MAX_CLUSTER_NAME_BYTES) throw new RangeError(`a cluster name is 1 to ${MAX_CLUSTER_NAME_BYTES} bytes`);
  const label = new Uint8Array(2 + bytes.byteLength);
  label[0] = MARK;
  label[1] = bytes.byteLength;
  label.set(bytes, 2);
  return label;
}

export function withLabel(label: Uint8Array, body: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(label.byteLength + body.byteLength);
  out.set(label, 0);
  out.set(body, label.byteLength);
  return out;
}

/** The name a body is labelled with, and the message after it; a MessageError if it carries none. */
export function readLabel(bytes: Uint8Array): { name: string; body: Uint8Array } {
  if (bytes.byteLength < 2 || bytes[0] !== MARK) throw new MessageError("the message carries no cluster label (a node of another version?)");
  const length = bytes[1]!;
  if (length < 1 || length > MAX_CLUSTER_NAME_BYTES || bytes.byteLength < 2 + length) throw new MessageError("the message's cluster label is cut short");
  return { name: fromUtf8.decode(bytes.subarray(2, 2 + length)), body: bytes.subarray(2 + length) };
}

/** Whether a body's label is exactly `label` (the usual case, checked without decoding). */
export function hasLabel(bytes: Uint8Array, label: Uint8Array): boolean {
  return startsWith(bytes, label);
}

/** A message labelled with another cluster's name: refused (403), nothing read or changed. */
export class ForeignClusterError extends Error {
  override name = "ForeignClusterError";
  constructor(readonly ours: string, readonly theirs: string) {
    super(`this node is in cluster '${ours}'; the message is from cluster '${theirs}' (check --cluster-name and the introducer)`);
  }
}
