/**
 * Peer streams opened with the `ws` package's client, for Node (which has no WebSocket of
 * its own in version 20; ws's client also costs 15-30% less CPU a message than undici's)
 * and Deno (whose own client writes a frame over 1 KiB as two packets without TCP_NODELAY,
 * so every such frame waits out a delayed ACK, ~40 ms). Bun uses its built-in client.
 */
import { WebSocket } from "ws";
import type { StreamSocket } from "../lib/stream/transport.ts";

/** No limit on a reply's size: it is bounded by what this node asked for. `ca`: whom a `wss:` peer's certificate must chain to. */
export function wsStreamOpener(ca?: string): (url: string) => StreamSocket {
  return (url) => new WebSocket(url, { perMessageDeflate: false, maxPayload: 0, ...(ca ? { ca } : {}) }) as unknown as StreamSocket;
}
