/**
 * `mod.ts simulate`'s command line: the experiment's own flags, and any node option
 * (`--protocol-period-ms 500`), given to every simulated node as a real node takes it.
 * Pure: the arguments → the experiment, help, or one line saying what is wrong.
 */
import { parseInteger } from "../address.ts";
import { defaultConfig, parseConfig } from "../config.ts";
import type { Config } from "../config.ts";
import type { ExperimentOptions, Faults } from "./experiment.ts";

export const SIMULATE_USAGE = `usage: mod.ts simulate --nodes N [--seed S] [--loss P] [--crash K] [--json] [node options]
  runs N nodes of the real code on a virtual clock and network, all starting through the
  first; reports when every member lists every other alive and when every ring holds them
  all, what a quiet member sends, then how fast the survivors declare K crashed members dead.
  Deterministic from the seed: the same line prints the same figures (but the wall time).

  --nodes N             members, 2 to 10000
  --seed S              the run's seed (default 1)
  --loss P              probability that any one message is lost, 0 to 1 (default 0)
  --crash K             members killed once the cluster has converged (default 1)
  --min-delay-ms MS     one-way delay, drawn between these two (default 1 and 5)
  --max-delay-ms MS
  --join-spread-ms MS   the nodes start evenly over this much time (default 1000)
  --limit-s S           virtual seconds each phase may take (default 300)
  --lossy K:P           K members lose each message to or from them with probability P
  --slow K:MS           K members take MS longer for each message each way
  --partition K:S       once converged, K members are cut off from the rest for S seconds
  --rejoin-after-s S    the crashed members start again S seconds after the crash
  --json                one JSON object instead of the report
  any node option       given to every node, as on a real node's command line (see --help)

  On Node it runs itself again with a larger young generation and a heap sized to N
  (--max-semi-space-size, --max-old-space-size), unless given; DHT_SIMULATE_RERUN=1 keeps
  the process as started.`;

export type SimulateArgs = { options: ExperimentOptions; json: boolean } | { error: string } | { help: true };

const OWN = new Set(["nodes", "seed", "loss", "crash", "min-delay-ms", "max-delay-ms", "join-spread-ms", "limit-s", "lossy", "slow", "partition", "rejoin-after-s"]);

/** A probability below 1, as the command line writes one; NaN otherwise. */
const probability = (text: string) => (/^(0|0?\.\d+|0\.)$/.test(text) ? Number(text) : NaN);

export function parseSimulateArgs(args: readonly string[]): SimulateArgs {
  const own = new Map<string, string>();
  const node: string[] = [];
  let json = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--help" || arg === "-h") return { help: true };
    if (arg === "--json") {
      json = true;
      continue;
    }
    const flag = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (!flag) return { error: `simulate: unexpected argument '${arg}' (see mod.ts simulate --help)` };
    const value = flag[2] ?? args[++i];
    if (value === undefined) return { error: `simulate: --${flag[1]} needs a value` };
    if (OWN.has(flag[1]!)) own.set(flag[1]!, value);
    else node.push(`--${flag[1]}`, value);
  }
  const int = (name: string, fallback: number | undefined, min: number, max: number): number | string => {
    const text = own.get(name);
    if (text === undefined) return fallback ?? `simulate: --${name} is required`;
    return parseInteger(text, min, max) ?? `simulate: --${name} must be an integer from ${min} to ${max}: received '${text}'`;
  };
  const nodes = int("nodes", undefined, 2, 10_000);
  if (typeof nodes === "string") return { error: nodes };
  const numbers = {
    seed: int("seed", 1, 0, 2 ** 31 - 1),
    crash: int("crash", 1, 0, nodes - 1),
    minDelayMs: int("min-delay-ms", 1, 0, 60_000),
    maxDelayMs: int("max-delay-ms", 5, 0, 60_000),
    joinSpreadMs: int("join-spread-ms", 1000, 0, 3_600_000),
    limitS: int("limit-s", 300, 1, 86_400),
  };
  for (const v of Object.values(numbers)) if (typeof v === "string") return { error: v };
  const n = numbers as Record<keyof typeof numbers, number>;
  if (n.minDelayMs > n.maxDelayMs) return { error: `simulate: --min-delay-ms (${n.minDelayMs}) cannot exceed --max-delay-ms (${n.maxDelayMs})` };
  const lossText = own.get("loss") ?? "0";
  const loss = probability(lossText);
  if (!(loss >= 0)) return { error: `simulate: --loss must be a probability from 0 to below 1: received '${lossText}'` };
  const faults = parseFaults(own, nodes - 1 - n.crash);
  if (typeof faults === "string") return { error: faults };
  const config = nodeOptions(node);
  if (typeof config === "string") return { error: `simulate: ${config}` };
  const options: ExperimentOptions = { nodes, seed: n.seed, loss, crash: n.crash, minDelayMs: n.minDelayMs, maxDelayMs: n.maxDelayMs, joinSpreadMs: n.joinSpreadMs, limitMs: n.limitS * 1000, config };
  if (Object.keys(faults).length > 0) options.faults = faults;
  return { json, options };
}

/** `--lossy K:P`, `--slow K:MS`, `--partition K:S`, `--rejoin-after-s S`; `spare`: members neither first nor crashed, which faults share. */
function parseFaults(own: Map<string, string>, spare: number): Faults | string {
  const faults: Faults = {};
  const pair = (name: string, second: (text: string) => number, what: string): [number, number] | undefined | string => {
    const text = own.get(name);
    if (text === undefined) return undefined;
    const [k, v] = text.split(":");
    const members = parseInteger(k ?? "", 1, 10_000);
    const value = v === undefined ? NaN : second(v);
    if (members === undefined || Number.isNaN(value)) return `simulate: --${name} must be K:${what}: received '${text}'`;
    return [members, value];
  };
  const lossy = pair("lossy", probability, "P (members, and a probability below 1)");
  const slow = pair("slow", (t) => parseInteger(t, 1, 600_000) ?? NaN, "MS (members, and milliseconds from 1 to 600000)");
  const partition = pair("partition", (t) => parseInteger(t, 1, 86_400) ?? NaN, "S (members, and seconds from 1 to 86400)");
  if (typeof lossy === "string") return lossy;
  if (typeof slow === "string") return slow;
  if (typeof partition === "string") return partition;
  if (lossy) faults.lossy = { members: lossy[0], loss: lossy[1] };
  if (slow) faults.slow = { members: slow[0], delayMs: slow[1] };
  if (partition) faults.partition = { members: partition[0], forMs: partition[1] * 1000 };
  const touched = (faults.lossy?.members ?? 0) + (faults.slow?.members ?? 0) + (faults.partition?.members ?? 0);
  if (touched > spare) return `simulate: --lossy, --slow and --partition take ${touched} members, but only ${spare} are neither the first nor crashed`;
  const rejoin = own.get("rejoin-after-s");
  if (rejoin !== undefined) {
    const seconds = parseInteger(rejoin, 0, 86_400);
    if (seconds === undefined) return `simulate: --rejoin-after-s must be an integer from 0 to 86400: received '${rejoin}'`;
    faults.rejoinAfterMs = seconds * 1000;
  }
  return faults;
}

/** The node options given, checked as a real node's command line is: only those that differ from the defaults. */
function nodeOptions(flags: string[]): Partial<Config> | string {
  const parsed = parseConfig(["7000", ...flags], {});
  if (parsed.kind === "error") return parsed.message;
  if (parsed.kind !== "config") return "--help and --version are not node options here (see mod.ts simulate --help)";
  const defaults = defaultConfig({ port: 7000 }) as unknown as Record<string, unknown>;
  const given: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(parsed.config)) {
    if (key !== "port" && key !== "advertise" && key !== "introducers" && value !== defaults[key]) given[key] = value;
  }
  return given as Partial<Config>;
}
