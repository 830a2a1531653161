/**
 * A local cluster in one command (the successor of the original init.cmd's 24 nodes):
 *
 *   npx tsx scripts/cluster.ts [nodes=5] [--runtime node|bun|deno|mixed] [--base-port 8000]
 *                              [--logs DIR] [-- extra mod.ts options]
 *
 * Node i listens on base-port + i and joins through the first node. Every node's log
 * lines are printed with its port in front and kept whole in DIR/node-<port>.log.
 * Ctrl-C (or SIGTERM) sends every node SIGTERM, so each leaves gracefully, and waits.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, mkdirSync } from "node:fs";
import process from "node:process";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../", import.meta.url));
const runtimes = ["node", "bun", "deno"] as const;
type Runtime = (typeof runtimes)[number];

function usage(): string {
  return "usage: scripts/cluster.ts [nodes=5] [--runtime node|bun|deno|mixed] [--base-port 8000] [--logs DIR] [-- mod.ts options]";
}

function fail(message: string): never {
  process.stderr.write(`cluster: ${message}\n${usage()}\n`);
  process.exit(2);
}

const args = process.argv.slice(2);
const dashDash = args.indexOf("--");
const own = dashDash === -1 ? args : args.slice(0, dashDash);
const passThrough = dashDash === -1 ? [] : args.slice(dashDash + 1);
let count = 5;
let runtime: Runtime | "mixed" = "node";
let basePort = 8000;
let logDir = "logs";
for (let i = 0; i < own.length; i++) {
  const arg = own[i]!;
  const value = () => own[++i] ?? fail(`${arg} needs a value`);
  if (arg === "--help" || arg === "-h") {
    process.stdout.write(usage() + "\n");
    process.exit(0);
  } else if (arg === "--runtime") {
    const v = value();
    if (v !== "mixed" && !runtimes.includes(v as Runtime)) fail(`--runtime must be node, bun, deno or mixed: received '${v}'`);
    runtime = v as Runtime | "mixed";
  } else if (arg === "--base-port") {
    basePort = Number(value());
  } else if (arg === "--logs") {
    logDir = value();
  } else if (/^\d+$/.test(arg)) {
    count = Number(arg);
  } else {
    fail(`unexpected argument '${arg}'`);
  }
}
if (!(count >= 1 && count <= 1000)) fail(`nodes must be 1 to 1000: received ${count}`);
if (!(Number.isInteger(basePort) && basePort >= 1 && basePort + count - 1 <= 65535)) fail(`--base-port ${basePort} leaves no room for ${count} nodes`);

const bin = (name: string) => `${root}node_modules/.bin/${name}`;
function command(rt: Runtime, port: number): [string, string[]] {
  const nodeArgs = [String(port), ...(port === basePort ? [] : [String(basePort)]), ...passThrough];
  if (rt === "bun") return [bin("bun"), ["run", "mod.ts", ...nodeArgs]];
  if (rt === "deno") return [bin("deno"), ["run", "-A", "mod.ts", ...nodeArgs]];
  // `node --import tsx` rather than the tsx CLI, which would stay as a second Node process
  // per member only to relay signals (~45 MiB each).
  return ["node", ["--import", "tsx", "mod.ts", ...nodeArgs]];
}

mkdirSync(logDir, { recursive: true });
const children: Array<{ port: number; child: ChildProcess; exited: Promise<number | null> }> = [];

function pipeLines(port: number, rt: Runtime, child: ChildProcess): void {
  const file = createWriteStream(`${logDir}/node-${port}.log`, { flags: "a" });
  const tag = `${String(port).padEnd(5)} ${rt.padEnd(4)} | `;
  for (const stream of [child.stdout!, child.stderr!]) {
    let partial = "";
    stream.setEncoding("utf8").on("data", (chunk: string) => {
      file.write(chunk);
      const lines = (partial + chunk).split("\n");
      partial = lines.pop()!;
      for (const line of lines) process.stdout.write(tag + line + "\n");
    });
  }
  child.once("exit", () => file.end());
}

for (let i = 0; i < count; i++) {
  const port = basePort + i;
  const rt: Runtime = runtime === "mixed" ? runtimes[i % 3]! : runtime;
  const [cmd, argv] = command(rt, port);
  const child = spawn(cmd, argv, { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
  pipeLines(port, rt, child);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  children.push({ port, child, exited });
  // The first node must be listening before the others join through it.
  if (i === 0) await new Promise((r) => setTimeout(r, rt === "node" ? 1500 : 500));
}
process.stdout.write(
  `cluster: ${count} ${runtime} nodes on 127.0.0.1:${basePort}-${basePort + count - 1}; logs in ${logDir}/; ` +
    `dashboard: http://127.0.0.1:${basePort}/; Ctrl-C stops them all\n`,
);

let stopping = false;

/**
 * Says when the cluster has formed: every node answers, holds the same ring, and the ring
 * is stable with every node on it. Until then, a line every 5 s with how far it got.
 */
async function announceFormed(): Promise<void> {
  const started = Date.now();
  let lastSaid = started;
  const ask = async (port: number, path: string) => {
    try {
      const res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(1_000) });
      return res.status === 200 ? await res.json() : undefined;
    } catch {
      return undefined;
    }
  };
  while (!stopping) {
    const health = await Promise.all(children.map((c) => ask(c.port, "/health")));
    const up = health.filter((h) => h !== undefined);
    const ring = await ask(basePort, "/cluster/ring");
    const onRing = ring?.members?.length ?? 0;
    const agreed = up.length === count && new Set(up.map((h) => h.checksum)).size === 1 && ring?.phase === "stable" && onRing === count;
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    if (agreed) {
      process.stdout.write(`cluster: formed: ${count} members on one ring (epoch ${ring.epoch}, checksum ${ring.checksum}) after ${seconds} s; dashboard: http://127.0.0.1:${basePort}/\n`);
      return;
    }
    if (Date.now() - lastSaid >= 5_000) {
      lastSaid = Date.now();
      process.stdout.write(`cluster: forming: ${up.length} of ${count} answering, ${onRing} on the ring of ${basePort} (${ring?.phase ?? "no ring"}) after ${seconds} s\n`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}
void announceFormed();

async function stopAll(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  process.stdout.write(`cluster: ${signal}: stopping ${count} nodes\n`);
  for (const { child } of children) if (child.exitCode === null) child.kill("SIGTERM");
  const timer = setTimeout(() => {
    for (const { child } of children) if (child.exitCode === null) child.kill("SIGKILL");
  }, 15_000);
  const codes = await Promise.all(children.map((c) => c.exited));
  clearTimeout(timer);
  const failed = codes.filter((c) => c !== 0).length;
  process.stdout.write(`cluster: stopped${failed ? ` (${failed} did not exit cleanly)` : ""}\n`);
  process.exit(failed ? 1 : 0);
}
process.on("SIGINT", () => void stopAll("SIGINT"));
process.on("SIGTERM", () => void stopAll("SIGTERM"));
