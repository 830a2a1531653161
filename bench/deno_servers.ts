/**
 * Deno servers that bound what our node can reach there, for `bench/deno_ceilings.sh`:
 *
 *   hello        the bare baseline: "hello" from a synchronous handler
 *   async        the node's GET answer (100 bytes, a Content-Type) from an async handler
 *   itty         the same answer through itty-router's `Router`, one route
 *   replica      a WebSocket peer that answers each frame at once with a small frame
 *   coordinator  answers each GET only after a round trip to `replica`: requests that
 *                arrive while a frame is out wait and leave together in the next one,
 *                as our batcher does, but with no store, msgpack, quorum or routing
 *
 *   deno run -A bench/deno_servers.ts <mode> <port> [replica port]
 */
import { Router } from "itty-router";

interface DenoApi {
  args: string[];
  serve(options: { hostname: string; port: number; onListen: () => void }, handler: (request: Request) => Response | Promise<Response>): unknown;
  upgradeWebSocket(request: Request): { socket: WebSocket; response: Response };
}
const deno = (globalThis as unknown as { Deno: DenoApi }).Deno;
const [mode, portText, replicaPort] = deno.args;
const serve = (handler: (request: Request) => Response | Promise<Response>) =>
  deno.serve({ hostname: "127.0.0.1", port: Number(portText), onListen: () => {} }, handler);

const value = new TextEncoder().encode("v".repeat(100));
const answer = () => new Response(value, { headers: { "content-type": "application/octet-stream" } });

if (mode === "hello") {
  serve(() => new Response("hello"));
} else if (mode === "async") {
  serve(async () => answer());
} else if (mode === "itty") {
  const router = Router();
  router.get("/d/:key", () => answer());
  router.all("*", () => new Response(null, { status: 404 })); // wait_port probes "/"
  serve((request) => router.fetch(request));
} else if (mode === "replica") {
  serve((request) => {
    if (request.headers.get("upgrade") !== "websocket") return new Response("a WebSocket peer", { status: 426 });
    const { socket, response } = deno.upgradeWebSocket(request);
    socket.binaryType = "arraybuffer";
    // A reply of a few bytes per request in the frame, like "same" answers to reads.
    socket.onmessage = (event) => socket.send(new Uint8Array(new Uint8Array(event.data as ArrayBuffer)[0]! * 4));
    return response;
  });
} else if (mode === "coordinator") {
  const socket = new WebSocket(`ws://127.0.0.1:${replicaPort}/`);
  socket.binaryType = "arraybuffer";
  await new Promise((resolve) => (socket.onopen = resolve));
  let waiting: Array<(response: Response) => void> = [];
  let inFlight: Array<(response: Response) => void> | undefined;
  const flush = () => {
    if (inFlight || waiting.length === 0) return;
    inFlight = waiting;
    waiting = [];
    // Under 1 KiB: Deno's client sends larger frames as two writes (see adapters/deno.ts).
    const frame = new Uint8Array(Math.min(inFlight.length, 255) * 4);
    frame[0] = Math.min(inFlight.length, 255);
    socket.send(frame);
  };
  socket.onmessage = () => {
    const answered = inFlight!;
    inFlight = undefined;
    for (const resolve of answered) resolve(answer());
    flush();
  };
  serve(() =>
    new Promise<Response>((resolve) => {
      waiting.push(resolve);
      if (waiting.length === 1) queueMicrotask(flush);
    })
  );
} else {
  console.error("usage: deno run -A bench/deno_servers.ts hello|async|itty|replica|coordinator <port> [replica port]");
  (globalThis as unknown as { Deno: { exit(code: number): never } }).Deno.exit(2);
}
