/**
 * Records a history against a running cluster and checks that it is linearizable:
 *
 *   npx tsx scripts/linearizability.ts 127.0.0.1:8000,127.0.0.1:8001,127.0.0.1:8002 \
 *       [--clients 4] [--ops 50] [--keys 3] [--history FILE]
 *
 * Each client runs its operations one after another (puts of unique values, gets and
 * deletes on a few keys) through a random node; call and return times come from this
 * process's monotonic clock. A 503 or a network error leaves a write's outcome unknown.
 * Exit 0: linearizable; 1: not (the key is named); 2: a bad command line.
 */
import { writeFileSync } from "node:fs";
import process from "node:process";
import { checkHistory, type Operation } from "../lib/check/linearizability.ts";

export interface RecordOptions {
  nodes: string[];
  clients: number;
  ops: number;
  keys: number;
  /** Prefix for key names, so runs do not see each other's values. */
  prefix?: string;
}

export async function recordHistory(options: RecordOptions): Promise<Operation[]> {
  const history: Operation[] = [];
  const prefix = options.prefix ?? `lin-${Date.now().toString(36)}`;
  const keys = Array.from({ length: options.keys }, (_, i) => `${prefix}-${i}`);
  const pick = <T>(xs: T[]) => xs[Math.floor(Math.random() * xs.length)]!;
  const now = () => performance.now();
  async function client(n: number): Promise<void> {
    for (let i = 0; i < options.ops; i++) {
      const key = pick(keys);
      const url = `http://${pick(options.nodes)}/d/${encodeURIComponent(key)}`;
      const roll = Math.random();
      const call = now();
      try {
        if (roll < 0.45) {
          const value = `c${n}-${i}`;
          const res = await fetch(url, { method: "PUT", body: value });
          await res.arrayBuffer();
          history.push({ kind: "put", key, value, call, ret: res.status === 204 ? now() : undefined });
        } else if (roll < 0.85) {
          const res = await fetch(url);
          const body = await res.text();
          const ret = now();
          if (res.status === 200) history.push({ kind: "get", key, value: body, call, ret });
          else if (res.status === 404) history.push({ kind: "get", key, value: null, call, ret });
        } else {
          const res = await fetch(url, { method: "DELETE" });
          await res.arrayBuffer();
          const ret = now();
          if (res.status === 204) history.push({ kind: "delete", key, found: true, call, ret });
          else if (res.status === 404) history.push({ kind: "delete", key, found: false, call, ret });
          else history.push({ kind: "delete", key, call });
        }
      } catch {
        if (roll < 0.45) history.push({ kind: "put", key, value: `c${n}-${i}`, call });
        else if (roll >= 0.85) history.push({ kind: "delete", key, call });
      }
    }
  }
  await Promise.all(Array.from({ length: options.clients }, (_, n) => client(n)));
  return history;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const fail = (m: string): never => {
    process.stderr.write(`linearizability: ${m}\nusage: scripts/linearizability.ts HOST:PORT[,HOST:PORT...] [--clients N] [--ops N] [--keys N] [--history FILE]\n`);
    process.exit(2);
  };
  const options: RecordOptions = { nodes: [], clients: 4, ops: 50, keys: 3 };
  let historyFile: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const value = () => args[++i] ?? fail(`${arg} needs a value`);
    const count = () => {
      const n = Number(value());
      if (!Number.isInteger(n) || n < 1 || n > 100_000) fail(`${arg} must be a whole number from 1 to 100000`);
      return n;
    };
    if (arg === "--clients") options.clients = count();
    else if (arg === "--ops") options.ops = count();
    else if (arg === "--keys") options.keys = count();
    else if (arg === "--history") historyFile = value();
    else if (arg === "--help" || arg === "-h") fail("help");
    else if (options.nodes.length === 0 && !arg.startsWith("-")) options.nodes = arg.split(",").map((s) => s.trim()).filter(Boolean);
    else fail(`unexpected argument '${arg}'`);
  }
  if (options.nodes.length === 0) fail("no nodes given");
  const history = await recordHistory(options);
  if (historyFile) writeFileSync(historyFile, JSON.stringify(history, null, 1));
  const result = checkHistory(history);
  const unknown = history.filter((op) => op.ret === undefined).length;
  process.stdout.write(`${history.length} operations on ${result.keys} keys (${unknown} with unknown outcome): ${result.ok ? "linearizable" : `NOT linearizable on key ${result.key}`}\n`);
  process.exit(result.ok ? 0 : 1);
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith("scripts/linearizability.ts")) await main();
