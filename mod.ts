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
 * 0 when every member is alive on one agreed ring, 1 otherwise. `mod.ts recover ...` lists
 * the ranges that lost a quorum of their owners and, once confirmed, gives them to their
 * surviving owners (exit 0 done or nothing to do, 1 refused or failed, 2 a bad command line).
 * `mod.ts simulate --nodes N ...` runs N nodes of the real code on the simulator and reports
 * convergence, detection and load (exit 0, or 1 when a phase did not finish in its limit).
 */
import process from "node:process";
import { ListenError } from "./adapters/types.ts";
import { fail } from "./adapters/fail.ts";
import { detectRuntime, loadAdapter } from "./adapters/mod.ts";
import { parseConfig, usage } from "./lib/config.ts";
import { consoleSink, realClock, realRandom } from "./lib/env.ts";
import { createLogger } from "./lib/log.ts";
import { createNode, VERSION } from "./lib/node.ts";
import { Keyring, parseClusterKeys } from "./lib/peer/keyring.ts";
import { maxFrameBytes } from "./lib/stream/responder.ts";

/** A file's text: the files module is loaded only by a node that names a file to read. */
async function readText(path: string): Promise<string> {
  return (await import("node:fs/promises")).readFile(path, "utf8");
}

/** The cluster keys: --cluster-key-file's, else DHT_CLUSTER_KEY's, else none; an error saying what is wrong with them. */
async function clusterKeyring(): Promise<Keyring | undefined> {
  const file = config.clusterKeyFile;
  let text: string | undefined = process.env.DHT_CLUSTER_KEY;
  let source = "DHT_CLUSTER_KEY";
  if (file) {
    source = `--cluster-key-file ${file}`;
    text = await readText(file).catch((err: Error) => {
      throw new Error(`${source}: cannot be read (${err.message})`);
    });
  }
  if (text === undefined || (!file && text === "")) return undefined;
  const keys = parseClusterKeys(text);
  if (typeof keys === "string") throw new Error(`${source}: ${keys}`);
  return Keyring.of(keys, (await import("./adapters/aead.ts")).nodeCryptoAead);
}

/** The TLS files named on the command line, read and checked to be PEM; undefined without --tls-cert. */
async function tlsFiles(): Promise<{ cert: string; key: string; ca?: string } | undefined> {
  if (!config.tlsCert) return undefined;
  const read = async (flag: string, path: string, what: string, begins: RegExp) => {
    const text = await readText(path).catch((err: Error) => fail(`${flag} ${path}: cannot be read (${err.message})`));
    if (!begins.test(text)) fail(`${flag} ${path}: holds no PEM ${what}`);
    return text;
  };
  const certificate = /-----BEGIN CERTIFICATE-----/;
  const cert = await read("--tls-cert", config.tlsCert, "certificate", certificate);
  const key = await read("--tls-key", config.tlsKey, "private key", /-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----/);
  const ca = config.tlsCa ? await read("--tls-ca", config.tlsCa, "certificate", certificate) : undefined;
  return { cert, key, ca };
}

// A subcommand serves no node: what it needs is loaded only when it is named.
const command = process.argv[2];
if (command === "status" || command === "recover" || command === "simulate") await (await import("./adapters/commands.ts")).runCommand(command, process.argv.slice(3));

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
const keyring = await clusterKeyring().catch((err: Error) => fail(err.message));
const tls = await tlsFiles();
const transport = adapter.transport(tls && { ca: tls.ca });
const node = createNode(config, { clock: realClock, random: realRandom, transport, log }, {
  runtime,
  acceptStream: (request) => server?.acceptStream?.(request),
  keyring,
});

try {
  server = await adapter.serve(node.fetch, {
    hostname: config.host,
    port: config.port,
    stream: { respond: node.answerFrame, maxFrameBytes: maxFrameBytes(config.maxValueBytes) },
    tls: tls && { cert: tls.cert, key: tls.key },
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
log.info("listening", { runtime, host: config.host, port: config.port, replicas: config.replicas, scheme: tls ? "https" : "http" });
if (keyring) log.info("node-to-node messages sealed", { cluster: config.clusterName, keys: keyring.ids().join(",") });
else log.warn("no cluster key: node-to-node messages are neither authenticated nor encrypted (set DHT_CLUSTER_KEY or --cluster-key-file)", { cluster: config.clusterName });
// A rotation step without a restart: the key file is read again, and what it holds is in force at once.
process.on("SIGHUP", () => {
  if (!config.clusterKeyFile) return log.warn("SIGHUP: no --cluster-key-file to read again");
  clusterKeyring().then(
    (next) => {
      node.useKeyring(next);
      log.info("cluster keys read again", { keys: next?.ids().join(",") ?? "" });
    },
    (err: Error) => log.error("SIGHUP: the cluster keys in force are kept", { error: err.message }),
  );
});
if (stopSignal) void leave();
