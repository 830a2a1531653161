/**
 * The subcommands of `mod.ts` that serve no node: `status`, `recover` and `simulate`. They
 * live apart from the entry point and are imported only when named, so that a serving node
 * never loads what they need (readline, the simulator, the recovery plan): every module a
 * runtime loads stays in the resident memory of every node (docs/benchmarks.md).
 */
import { hostname, userInfo } from "node:os";
import process from "node:process";
import { setImmediate } from "node:timers";
import { createInterface } from "node:readline/promises";
import { fail } from "./fail.ts";
import { rerunWithSimulatorHeap } from "./sim_heap.ts";
import { parseNodeTarget } from "../lib/address.ts";
import { PORT_ENV } from "../lib/config.ts";
import { clusterStatus, statusReport } from "../lib/status.ts";
import { runExperiment } from "../lib/sim/experiment.ts";
import { progressLine, simulationExitCode, simulationReport } from "../lib/sim/report.ts";
import { parseSimulateArgs, SIMULATE_USAGE } from "../lib/sim/simulate_args.ts";
import { listRecoverable, parseRecoverArgs, recover, RECOVER_USAGE, recoverPlan, recoverResult } from "../lib/recover_command.ts";

export type Command = "status" | "recover" | "simulate";

/** Runs one subcommand to its end: each leaves through process.exit with its exit code. */
export function runCommand(command: Command, args: string[]): Promise<never> {
  switch (command) {
    case "status":
      return status(args);
    case "recover":
      return recoverRanges(args);
    case "simulate":
      return simulate(args);
  }
}

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
