/**
 * Real processes for end-to-end tests: `mod.ts` started on Node (through tsx), Bun or Deno
 * from the packages in node_modules, on 127.0.0.1, with their output kept for assertions.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";

export const root = fileURLToPath(new URL("../../", import.meta.url));
export const runtimes = ["node", "bun", "deno"] as const;
export type Runtime = (typeof runtimes)[number];

const bin = (name: string) => `${root}node_modules/.bin/${name}`;

/**
 * The command line per runtime, as the README gives it, except that Node runs as
 * `node --import tsx` rather than through the tsx CLI: the CLI is a parent process that
 * relays SIGTERM and SIGINT but cannot relay SIGKILL or SIGSTOP, which tests send.
 */
export function commandFor(runtime: Runtime, args: string[]): [string, string[]] {
  switch (runtime) {
    case "node":
      return ["node", ["--import", "tsx", "mod.ts", ...args]];
    case "bun":
      return [bin("bun"), ["run", "mod.ts", ...args]];
    case "deno":
      return [bin("deno"), ["run", "-A", "mod.ts", ...args]];
  }
}

/** A port nobody is listening on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface Exited {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

function collect(child: ChildProcess) {
  const out = { stdout: "", stderr: "" };
  child.stdout?.setEncoding("utf8").on("data", (s: string) => (out.stdout += s));
  child.stderr?.setEncoding("utf8").on("data", (s: string) => (out.stderr += s));
  const exited = new Promise<Exited>((resolve) => {
    child.once("exit", (code, signal) => {
      // Let the last output drain before reporting.
      setTimeout(() => resolve({ code, signal, ...out }), 50);
    });
  });
  return { out, exited };
}

/** Runs `mod.ts` to completion (for --help and bad command lines). */
export async function runCli(runtime: Runtime, args: string[], env: Record<string, string> = {}, timeoutMs = 30_000): Promise<Exited> {
  const [cmd, argv] = commandFor(runtime, args);
  const child = spawn(cmd, argv, { cwd: root, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  const { exited } = collect(child);
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  const result = await exited;
  clearTimeout(timer);
  return result;
}

export interface RunningNode {
  runtime: Runtime;
  port: number;
  url: string;
  child: ChildProcess;
  output(): string;
  exited: Promise<Exited>;
  /** Sends `signal` and waits for the exit (SIGKILL after `graceMs`). */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<Exited>;
}

/**
 * Signals by pid rather than `child.kill()`: Deno's child_process reports a child it
 * signalled as killed by that signal even when the child handled it and exited 0.
 */
function signalChild(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(child.pid!, signal);
  } catch {
    // Already gone.
  }
}

export interface PlaceOptions {
  /** The port to serve on (default: a free one on 127.0.0.1). */
  port?: number;
  /** The host its URL names (default 127.0.0.1). */
  host?: string;
  /** A command the node's command line is handed to, as `ip netns exec NS`. */
  prefix?: string[];
}

/** Starts a node and resolves once it logs that it is listening. */
export async function startNode(runtime: Runtime, args: string[] = [], env: Record<string, string> = {}, place: PlaceOptions = {}): Promise<RunningNode> {
  const port = place.port ?? await freePort();
  const [base, baseArgv] = commandFor(runtime, [String(port), ...args, "--log", "json"]);
  const [cmd, argv] = place.prefix ? [place.prefix[0]!, [...place.prefix.slice(1), base, ...baseArgv]] : [base, baseArgv];
  const child = spawn(cmd, argv, { cwd: root, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  const { out, exited } = collect(child);
  const node: RunningNode = {
    runtime,
    port,
    url: `http://${place.host ?? "127.0.0.1"}:${port}`,
    child,
    output: () => out.stdout + out.stderr,
    exited,
    async stop(signal = "SIGTERM", graceMs = 10_000) {
      if (child.exitCode === null && child.signalCode === null) signalChild(child, signal);
      const timer = setTimeout(() => signalChild(child, "SIGKILL"), graceMs);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
  };
  const deadline = Date.now() + 30_000;
  while (!/"event":"listening"/.test(out.stdout)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await node.stop("SIGKILL");
      throw new Error(`${runtime} node on port ${port} did not start:\n${node.output()}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  return node;
}

/**
 * Resolves once every node's ring holds all of them, stable, with one checksum; fails
 * saying what each node held if that takes longer than `limitMs`.
 */
export async function ringsAgree(nodes: RunningNode[], limitMs = 30_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const rings = await Promise.all(nodes.map(async (n) => (await fetch(`${n.url}/cluster/ring`)).json()));
    if (rings.every((r) => r.members.length === nodes.length && r.phase === "stable") && new Set(rings.map((r) => r.checksum)).size === 1) return;
    if (Date.now() > deadline) throw new Error(`the rings did not agree within ${limitMs} ms: ${JSON.stringify(rings.map((r) => [r.epoch, r.phase, r.members.length]))}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Starts one node per runtime, each with `args`, all joining the first; resolves once their rings agree. */
export async function startCluster(runtimes: readonly Runtime[], args: string[] = []): Promise<RunningNode[]> {
  const nodes = [await startNode(runtimes[0]!, args)];
  try {
    nodes.push(...await Promise.all(runtimes.slice(1).map((rt) => startNode(rt, [String(nodes[0]!.port), ...args]))));
    await ringsAgree(nodes, 60_000);
  } catch (err) {
    await Promise.all(nodes.map((n) => n.stop("SIGKILL")));
    throw err;
  }
  return nodes;
}
