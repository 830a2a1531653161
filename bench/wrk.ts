/**
 * Running wrk from a TypeScript bench and reading its figures: requests a second, p50 and
 * p99 in ms, and the non-2xx answers and socket errors it counted.
 */
import { spawn } from "node:child_process";

export interface Figures {
  rate: number;
  p50: number;
  p99: number;
  errors: number;
}

export function parseWrk(out: string): Figures {
  const ms = (label: string) => {
    const m = new RegExp(`^\\s+${label}%\\s+([0-9.]+)(us|ms|s)`, "m").exec(out);
    if (!m) return NaN;
    return Number(m[1]) * (m[2] === "us" ? 0.001 : m[2] === "s" ? 1000 : 1);
  };
  const errors = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0) + (/Socket errors: (.*)/.exec(out)?.[1]?.match(/\d+/g)?.map(Number).reduce((a, b) => a + b, 0) ?? 0);
  return { rate: Number(/Requests\/sec:\s+([0-9.]+)/.exec(out)?.[1] ?? NaN), p50: ms("50"), p99: ms("99"), errors };
}

export interface WrkRun {
  seconds: number;
  connections?: number;
  script?: string;
  /** Arguments handed to the script (after `--`). */
  scriptArgs?: string[];
}

/** One wrk process (one thread) against `url`. */
export function wrk(url: string, { seconds, connections = 32, script, scriptArgs = [] }: WrkRun): Promise<Figures> {
  const args = ["-t1", `-c${connections}`, `-d${seconds}s`, "--latency", ...(script ? ["-s", script] : []), url, ...(scriptArgs.length > 0 ? ["--", ...scriptArgs] : [])];
  return new Promise((resolve, reject) => {
    const child = spawn("wrk", args, { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (chunk) => (out += chunk));
    child.on("error", reject);
    child.on("close", () => resolve(parseWrk(out)));
  });
}
