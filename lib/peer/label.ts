/**
 * Cluster names on the wire (`--cluster-name`, lib/wire/label.ts): every message this node
 * sends and every reply it gives is labelled with its name; a message or a reply labelled
 * with another is refused before anything reads it. So two clusters introduced to each
 * other by mistake never admit, probe or gossip about each other's members: every message
 * between them fails, as if the network were cut.
 */
import type { PeerReply, Transport } from "../env.ts";
import { ForeignClusterError, hasLabel, labelFor, readLabel, withLabel } from "../wire/label.ts";
import type { PeerHandler } from "./table.ts";

/** `inner` with every request labelled, and every answered reply checked and unlabelled. */
export function labelledTransport(inner: Transport, name: string): Transport {
  const label = labelFor(name);
  return {
    async send(peer, path, body, signal): Promise<PeerReply> {
      const reply = await inner.send(peer, path, withLabel(label, body), signal);
      if (reply.status !== 200) return reply; // a refusal: plain JSON, read as any other
      if (hasLabel(reply.body, label)) return { status: 200, body: reply.body.subarray(label.byteLength) };
      throw new ForeignClusterError(name, readLabel(reply.body).name);
    },
    close: () => inner.close(),
  };
}

/**
 * `handler` behind the label check: a message labelled `name` is answered (its reply
 * labelled too); one labelled otherwise is refused, and `refused` told whose it was.
 */
export function labelledHandler(handler: PeerHandler, name: string, path: string, refused: (theirs: string, path: string) => void): PeerHandler {
  const label = labelFor(name);
  return {
    maxBytes: handler.maxBytes + label.byteLength,
    handle(body) {
      if (!hasLabel(body, label)) {
        const theirs = readLabel(body).name;
        refused(theirs, path);
        throw new ForeignClusterError(name, theirs);
      }
      const reply = handler.handle(body.subarray(label.byteLength));
      return reply instanceof Promise ? reply.then((r) => withLabel(label, r)) : withLabel(label, reply);
    },
  };
}
