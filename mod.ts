/**
 * dht-node's entry point, the same on every runtime:
 *
 *   bun run mod.ts 8000 8001    deno run -A mod.ts 8000    npx tsx mod.ts 8000
 *
 * Parses the command line, picks the runtime's adapter, serves the node, and leaves the
 * cluster gracefully on SIGINT or SIGTERM. Exit codes: 0 after a clean stop or --help,
 * 2 for a bad command line or an address that cannot be listened on.
 *
 * `mod.ts status [host:port]` prints the cluster as that node sees it instead, and exits
 * 0 when every member is alive on one agreed ring, 1 otherwise.
 */
import process from "node:process";
import { ListenError } from "./adapters/types.ts";
import { detectRuntime, loadAdapter } from "./adapters/mod.ts";
import { parseAddress, parseConfig, PORT_ENV, usage } from "./lib/config.ts";
import { consoleSink, realClock, realRandom } from "./lib/env.ts";
import { createLogger } from "./lib/log.ts";
import { createNode, VERSION } from "./lib/node.ts";
import { maxFrameBytes } from "./lib/stream/responder.ts";
import { clusterStatus, statusReport } from "./lib/status.ts";

function fail(message: string): never {
  process.stderr.write(`dht-node: ${message}\n`);
  process.exit(2);
}

if (process.argv[2] === "status") await status(process.argv.slice(3));

async function status(args: string[]): Promise<never> {
  if (args.includes("--help") || args.includes("-h")) {
    process.stdout.write("usage: mod.ts status [host:port]   the members as that node sees them (default 127.0.0.1:8000)\n");
    process.exit(0);
  }
  if (args.length > 1) fail(`status takes one address at most: received ${args.join(" ")}`);
  const text = args[0] ?? `127.0.0.1:${process.env[PORT_ENV] || 8000}`;
  const via = parseAddress(text, "127.0.0.1");
  if (!via) fail(`status: the address must be PORT or HOST:PORT: received '${text}'`);
  try {
    const report = statusReport(await clusterStatus(via, (url, init) => fetch(url, init)));
    process.stdout.write(report.text + "\n");
    process.exit(report.code);
  } catch (err) {
    process.stderr.write(`dht-node: cannot read the cluster from ${via}: ${(err as Error).message}\n`);
    process.exit(1);
  }
}

const parsed = parseConfig(process.argv.slice(2), process.env);
if (parsed.kind === "help") {
  process.stdout.write(usage("mod.ts") + "\n");
  process.exit(0);
}
if (parsed.kind === "version") {
  process.stdout.write(`dht-node ${VERSION}\n`);
  process.exit(0);
}
if (parsed.kind === "error") fail(parsed.message);
const config = parsed.config;

// Signals are caught before anything else happens, so that one arriving during start-up
// is not met by the default action: it is remembered, and the node leaves once it is up.
let stopSignal: string | undefined;
let leave: (() => Promise<void>) | undefined;
function onSignal(signal: string): void {
  if (stopSignal) return;
  stopSignal = signal;
  if (leave) void leave();
}
process.on("SIGINT", () => onSignal("SIGINT"));
process.on("SIGTERM", () => onSignal("SIGTERM"));

const runtime = detectRuntime();
const adapter = await loadAdapter(runtime);
const log = createLogger({
  format: config.log,
  level: config.logLevel,
  now: realClock.now,
  sink: consoleSink,
  base: { node: config.advertise },
});
let server: Awaited<ReturnType<typeof adapter.serve>> | undefined;
const node = createNode(config, { clock: realClock, random: realRandom, transport: adapter.transport(), log }, {
  runtime,
  acceptStream: (request) => server?.acceptStream?.(request),
});

try {
  server = await adapter.serve(node.fetch, {
    hostname: config.host,
    port: config.port,
    stream: { respond: node.answerFrame, maxFrameBytes: maxFrameBytes(config.maxValueBytes) },
  });
} catch (err) {
  if (err instanceof ListenError) fail(err.message);
  throw err;
}

// A failure inside one request is answered there; anything that still escapes is logged
// rather than allowed to take the node down.
process.on("unhandledRejection", (reason) => log.error("unhandled rejection", { error: String(reason) }));

leave = async () => {
  log.info("leaving", { signal: stopSignal });
  await node.leave();
  await server!.close();
  log.info("stopped");
  process.exit(0);
};
node.start();
log.info("listening", { runtime, host: config.host, port: config.port, replicas: config.replicas });
if (stopSignal) void leave();
