/** Node-to-node bodies as a node of the default cluster (`dht`) sends them: labelled (lib/wire/label.ts). */
import { labelFor, withLabel } from "../../lib/wire/label.ts";

const DEFAULT = labelFor("dht");

/** `body` as a peer of the default cluster sends it. */
export const labelled = (body: Uint8Array, name?: string): Uint8Array<ArrayBuffer> => withLabel(name ? labelFor(name) : DEFAULT, body);

/** A 200 reply's message, after its label (which must be the default cluster's). */
export function unlabelled(reply: Uint8Array): Uint8Array {
  for (let i = 0; i < DEFAULT.byteLength; i++) if (reply[i] !== DEFAULT[i]) throw new Error("the reply does not carry the default cluster's label");
  return reply.subarray(DEFAULT.byteLength);
}
