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
import { hostname, userInfo } from "node:os";
import process from "node:process";
import { setImmediate } from "node:timers";
import { readFile } from "node:fs/promises";
import { createInterface } from "node:readline/promises";
import { ListenError } from "./adapters/types.ts";
import { nodeCryptoAead } from "./adapters/aead.ts";
import { rerunWithSimulatorHeap } from "./adapters/sim_heap.ts";
import { detectRuntime, loadAdapter } from "./adapters/mod.ts";
import { parseNodeTarget } from "./lib/address.ts";
import { parseConfig, PORT_ENV, usage } from "./lib/config.ts";
import { consoleSink, realClock, realRandom } from "./lib/env.ts";
import { createLogger } from "./lib/log.ts";
import { createNode, VERSION } from "./lib/node.ts";
import { Keyring, parseClusterKeys } from "./lib/peer/keyring.ts";
import { maxFrameBytes } from "./lib/stream/responder.ts";
import { clusterStatus, statusReport } from "./lib/status.ts";
import { runExperiment } from "./lib/sim/experiment.ts";
import { progressLine, simulationExitCode, simulationReport } from "./lib/sim/report.ts";
import { parseSimulateArgs, SIMULATE_USAGE } from "./lib/sim/simulate_args.ts";
import { listRecoverable, parseRecoverArgs, recover, RECOVER_USAGE, recoverPlan, recoverResult } from "./lib/recover_command.ts";

/** The cluster keys: --cluster-key-file's, else DHT_CLUSTER_KEY's, else none; an error saying what is wrong with them. */
async function clusterKeyring(): Promise<Keyring | undefined> {
  const file = config.clusterKeyFile;
  let text: string | undefined = process.env.DHT_CLUSTER_KEY;
  let source = "DHT_CLUSTER_KEY";
  if (file) {
    source = `--cluster-key-file ${file}`;
    text = await readFile(file, "utf8").catch((err: Error) => {
      throw new Error(`${source}: cannot be read (${err.message})`);
    });
  }
  if (text === undefined || (!file && text === "")) return undefined;
  const keys = parseClusterKeys(text);
  if (typeof keys === "string") throw new Error(`${source}: ${keys}`);
  return Keyring.of(keys, nodeCryptoAead);
}

/** The TLS files named on the command line, read and checked to be PEM; undefined without --tls-cert. */
async function tlsFiles(): Promise<{ cert: string; key: string; ca?: string } | undefined> {
  if (!config.tlsCert) return undefined;
  const read = async (flag: string, path: string, what: string, begins: RegExp) => {
    const text = await readFile(path, "utf8").catch((err: Error) => fail(`${flag} ${path}: cannot be read (${err.message})`));
    if (!begins.test(text)) fail(`${flag} ${path}: holds no PEM ${what}`);
    return text;
  };
  const certificate = /-----BEGIN CERTIFICATE-----/;
  const cert = await read("--tls-cert", config.tlsCert, "certificate", certificate);
  const key = await read("--tls-key", config.tlsKey, "private key", /-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----/);
  const ca = config.tlsCa ? await read("--tls-ca", config.tlsCa, "certificate", certificate) : undefined;
  return { cert, key, ca };
}

function fail(message: string): never {
  process.stderr.write(`dht-node: ${message}\n`);
  process.exit(2);
}

if (process.argv[2] === "status") await status(process.argv.slice(3));
if (process.argv[2] === "recover") await recoverRanges(process.argv.slice(3));
if (process.argv[2] === "simulate") await simulate(process.argv.slice(3));

async function simulate(args: string[]): Promise<never> {
  const parsed = parseSimulateArgs(args);
  if ("help" in parsed) {
    process.stdout.write(SIMULATE_USAGE + "\n");
    process.exit(0);
  }
  if ("error" in parsed) fail(parsed.error);
  const { options, json } = parsed;
  await rerunWithSimulatorHeap(options.nodes);
  let shownAt = 0;
  const result = await runExperiment(options, {
    settle: () => new Promise<void>((resolve) => setImmediate(resolve)),
    wallMs: () => performance.now(),
    // One progress line a wall second, on stderr: stdout keeps only the report (or the JSON).
    progress: (p) => {
      if (p.wallMs - shownAt < 1000) return;
      shownAt = p.wallMs;
      process.stderr.write(progressLine(p, options.nodes) + "\n");
    },
  });
  process.stdout.write((json ? JSON.stringify(result) : simulationReport(options, result)) + "\n");
  process.exit(simulationExitCode(options, result));
}

async function recoverRanges(args: string[]): Promise<never> {
  const parsed = parseRecoverArgs(args, `127.0.0.1:${process.env[PORT_ENV] || 8000}`);
  if ("help" in parsed) {
    process.stdout.write(RECOVER_USAGE + "\n");
    process.exit(0);
  }
  if ("error" in parsed) fail(parsed.error);
  const fetchFn = (url: string, init: RequestInit) => fetch(url, init);
  try {
    const plan = recoverPlan(await listRecoverable(parsed.via, fetchFn), parsed);
    process.stdout.write(plan.text + "\n");
    if (plan.unknown.length > 0) process.exit(1);
    if (plan.chosen.length === 0) process.exit(0);
    if (!parsed.yes) {
      if (!process.stdin.isTTY) {
        process.stderr.write("dht-node: recover: not confirmed: run again with --yes to recover without a prompt\n");
        process.exit(1);
      }
      const prompt = createInterface({ input: process.stdin, output: process.stdout });
      const answer = await prompt.question(`recover ${plan.chosen.length} ranges, keeping only what is said above? type yes: `);
      prompt.close();
      if (answer.trim() !== "yes") {
        process.stdout.write("nothing done\n");
        process.exit(1);
      }
    }
    const by = `${safe(() => userInfo().username) ?? "operator"}@${safe(hostname) ?? "unknown"} (mod.ts recover)`;
    process.stdout.write(recoverResult(await recover(parsed.via, fetchFn, { all: parsed.all, ranges: plan.chosen }, by)) + "\n");
    process.exit(0);
  } catch (err) {
    process.stderr.write(`dht-node: recover through ${parsed.via} failed: ${(err as Error).message}\n`);
    process.exit(1);
  }
}

function safe<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}

async function status(args: string[]): Promise<never> {
  if (args.includes("--help") || args.includes("-h")) {
    process.stdout.write("usage: mod.ts status [host:port | https://host:port]   the members as that node sees them (default 127.0.0.1:8000)\n");
    process.exit(0);
  }
  if (args.length > 1) fail(`status takes one address at most: received ${args.join(" ")}`);
  const text = args[0] ?? `127.0.0.1:${process.env[PORT_ENV] || 8000}`;
  const via = parseNodeTarget(text, "127.0.0.1");
  if (!via) fail(`status: the address must be PORT, HOST:PORT or https://HOST:PORT: received '${text}'`);
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
