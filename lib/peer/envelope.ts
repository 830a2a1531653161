/**
 * What wraps every node-to-node message (docs/wire-format.md, "The envelope"): the cluster
 * label (`--cluster-name`, lib/wire/label.ts), and, with a cluster key, the message sealed
 * under it (keyring.ts). This node wraps what it sends in one place, round its transport,
 * and opens what it answers in one place, round each handler of the peer table, so every
 * carrier passes through the same checks. A message labelled with another cluster's name
 * is refused (403) before anything reads it, one that does not open (401) likewise: two
 * clusters introduced by mistake, or a node without the key, look to each other like a cut
 * network.
 */
import type { PeerReply, Transport } from "../env.ts";
import { BodyTooLargeError } from "./refusal.ts";
import { ForeignClusterError, hasLabel, labelFor, readLabel, withLabel } from "../wire/label.ts";
import { isSealed, type Keyring, SEAL_OVERHEAD, SealError } from "./keyring.ts";
import type { PeerHandler } from "./table.ts";

/** The keyring in force, which a reload replaces; absent: messages travel unsealed. */
export interface KeyringHolder {
  keyring?: Keyring;
}

/** Told of every refused message: another cluster's (its name), or one that did not open. */
export interface Refusals {
  foreign(theirs: string, path: string): void;
  unopened(err: SealError, path: string): void;
}

const utf8 = new TextEncoder();

/** The associated data a sealed message is bound to: the cluster, the path, and which way it goes. */
function associated(label: Uint8Array, path: string, reply: boolean): Uint8Array {
  const p = utf8.encode(path);
  const out = new Uint8Array(label.byteLength + p.byteLength + 1);
  out.set(label, 0);
  out.set(p, label.byteLength);
  out[out.byteLength - 1] = reply ? 1 : 0;
  return out;
}

/** `inner` with every request wrapped, and every answered reply checked and unwrapped. */
export function envelopeTransport(inner: Transport, name: string, keys: KeyringHolder): Transport {
  const label = labelFor(name);
  // The associated data of each path, made once: a node sends on a closed set of paths.
  const byPath = new Map<string, { request: Uint8Array; reply: Uint8Array }>();
  const aadOf = (path: string) => {
    let aad = byPath.get(path);
    if (!aad) byPath.set(path, (aad = { request: associated(label, path, false), reply: associated(label, path, true) }));
    return aad;
  };
  return {
    async send(peer, path, body, signal): Promise<PeerReply> {
      const keyring = keys.keyring;
      const payload = keyring ? await keyring.seal(aadOf(path).request, body) : body;
      const reply = await inner.send(peer, path, withLabel(label, payload), signal);
      if (reply.status !== 200) return reply; // a refusal: plain JSON, read as any other
      if (!hasLabel(reply.body, label)) throw new ForeignClusterError(name, readLabel(reply.body).name);
      const message = reply.body.subarray(label.byteLength);
      return { status: 200, body: keyring ? await keyring.open(aadOf(path).reply, message) : message };
    },
    close: () => inner.close(),
  };
}

/**
 * `handler` behind the envelope: a message of this cluster that opens is answered, the
 * reply wrapped likewise; any other is refused, and `refused` told.
 */
export function envelopeHandler(handler: PeerHandler, name: string, path: string, keys: KeyringHolder, refused: Refusals): PeerHandler {
  const label = labelFor(name);
  const [requestAad, replyAad] = [associated(label, path, false), associated(label, path, true)];
  const unwrapped = (body: Uint8Array): Uint8Array => {
    if (!hasLabel(body, label)) {
      const theirs = readLabel(body).name;
      refused.foreign(theirs, path);
      throw new ForeignClusterError(name, theirs);
    }
    return body.subarray(label.byteLength);
  };
  return {
    maxBytes: handler.maxBytes + label.byteLength + SEAL_OVERHEAD,
    handle(body) {
      const message = unwrapped(body);
      const keyring = keys.keyring;
      // The path's limit is the message's, whatever wraps it.
      if (message.byteLength > handler.maxBytes + (keyring ? SEAL_OVERHEAD : 0)) throw new BodyTooLargeError(handler.maxBytes);
      if (!keyring) {
        if (isSealed(message)) refuse(new SealError("the message is sealed, and this node has no cluster key"), path, refused);
        const reply = handler.handle(message);
        return reply instanceof Promise ? reply.then((r) => withLabel(label, r)) : withLabel(label, reply);
      }
      return keyring.open(requestAad, message).then(
        async (plain) => withLabel(label, await keyring.seal(replyAad, await handler.handle(plain))),
        (err) => refuse(err, path, refused),
      );
    },
  };
}

function refuse(err: unknown, path: string, refused: Refusals): never {
  if (err instanceof SealError) refused.unopened(err, path);
  throw err;
}
