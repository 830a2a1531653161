/**
 * `mod.ts recover [host:port] [--range R | --all] [--yes]`: the ranges that lost a quorum of
 * their owners, as that node lists them (`GET /cluster/recover`), what recovering each keeps
 * and may lose, and, once confirmed, the recovery (`POST /cluster/recover`). The words and
 * the argument parsing are pure; mod.ts does the prompting and the exit codes.
 */
import type { FetchLike } from "./env.ts";
import { parseNodeTarget, targetUrl } from "./address.ts";
import { isPinName } from "./topology/pins.ts";

export interface RecoverArgs {
  via: string;
  /** Range names to recover; empty with `all`. */
  ranges: string[];
  all: boolean;
  yes: boolean;
}

export const RECOVER_USAGE = `usage: mod.ts recover [host:port | https://host:port] [--range R]... | [--all] [--yes]
  lists the ranges that lost a quorum of their owners as that node sees them (default
  127.0.0.1:8000) and what recovering each keeps; with --range (repeatable) or --all, gives
  them to their surviving owners once you confirm (--yes: without asking)`;

export function parseRecoverArgs(args: readonly string[], defaultVia: string): RecoverArgs | { error: string } | { help: true } {
  const out: RecoverArgs = { via: defaultVia, ranges: [], all: false, yes: false };
  let address: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--help" || arg === "-h") return { help: true };
    if (arg === "--yes" || arg === "-y") out.yes = true;
    else if (arg === "--all") out.all = true;
    else if (arg === "--range") {
      const name = args[++i];
      if (name === undefined || !isPinName(name)) return { error: `recover: --range takes a range name as GET /cluster/recover lists it (16 hex digits, '-', 16 hex digits): received ${name === undefined ? "nothing" : `'${name}'`}` };
      out.ranges.push(name);
    } else if (arg.startsWith("-")) return { error: `recover: unknown option '${arg}'` };
    else if (address !== undefined) return { error: `recover takes one address at most: received '${address}' and '${arg}'` };
    else address = arg;
  }
  if (out.all && out.ranges.length > 0) return { error: "recover: give --range or --all, not both" };
  if (address !== undefined) {
    const via = parseNodeTarget(address, "127.0.0.1");
    if (!via) return { error: `recover: the address must be PORT, HOST:PORT or https://HOST:PORT: received '${address}'` };
    out.via = via;
  }
  return out;
}

export interface RecoverListing {
  epoch: number;
  warning: string;
  ranges: Array<{ range: string; owners: string[]; dead: string[]; survivors: string[]; since: string; says: string }>;
}

export async function listRecoverable(via: string, fetchFn: FetchLike, timeoutMs = 10_000): Promise<RecoverListing> {
  const res = await fetchFn(`${targetUrl(via)}/cluster/recover`, { signal: AbortSignal.timeout(timeoutMs) });
  if (res.status !== 200) throw new Error(`GET /cluster/recover answered ${res.status}: ${await res.text()}`);
  return await res.json() as RecoverListing;
}

/** What recovering would do, in words, and which ranges it would recover (none when the selection names an unknown range). */
export function recoverPlan(listing: RecoverListing, args: Pick<RecoverArgs, "ranges" | "all">): { text: string; chosen: string[]; unknown: string[] } {
  const lines: string[] = [];
  if (listing.ranges.length === 0) return { text: `no range has lost a quorum of its owners (epoch ${listing.epoch}): nothing to recover`, chosen: [], unknown: [] };
  lines.push(`${listing.ranges.length} ranges lost a quorum of their owners (epoch ${listing.epoch}):`);
  for (const r of listing.ranges) {
    lines.push(`  ${r.range}  owners ${r.owners.join(", ")}; dead ${r.dead.join(", ")}; since ${r.since}`);
    lines.push(`    recovering gives it to ${r.survivors.length > 0 ? r.survivors.join(", ") : "the ring's owners, empty (no owner survives: its keys are lost)"}: ${r.says}`);
  }
  const unknown = args.ranges.filter((name) => !listing.ranges.some((r) => r.range === name));
  const chosen = args.all ? listing.ranges.map((r) => r.range) : args.ranges.filter((name) => !unknown.includes(name));
  if (unknown.length > 0) lines.push("", `! not a range that lost its quorum: ${unknown.join(", ")}`);
  else if (chosen.length === 0) lines.push("", "to recover them: add --range R (for each) or --all");
  else lines.push("", `warning: ${listing.warning}`);
  return { text: lines.join("\n"), chosen: unknown.length > 0 ? [] : chosen, unknown };
}

export interface RecoverReply {
  epoch: number;
  at: string;
  by: string;
  recovered: Array<{ range: string; survivors: string[]; kept: string }>;
}

export async function recover(via: string, fetchFn: FetchLike, chosen: { all: boolean; ranges: string[] }, by: string, timeoutMs = 30_000): Promise<RecoverReply> {
  const body = JSON.stringify(chosen.all ? { all: true, by } : { ranges: chosen.ranges, by });
  const res = await fetchFn(`${targetUrl(via)}/cluster/recover`, {
    method: "POST", body, headers: { "content-type": "application/json" }, signal: AbortSignal.timeout(timeoutMs),
  });
  if (res.status !== 200) throw new Error(`POST /cluster/recover answered ${res.status}: ${await res.text()}`);
  return await res.json() as RecoverReply;
}

export function recoverResult(reply: RecoverReply): string {
  if (reply.recovered.length === 0) return "nothing was left to recover";
  return [
    `recovered ${reply.recovered.length} ranges in epoch ${reply.epoch} at ${reply.at}, by ${reply.by} (recorded in /cluster/ring and the event log):`,
    ...reply.recovered.map((r) => `  ${r.range} → ${r.survivors.join(", ") || "the ring's owners"}: ${r.kept}`),
  ].join("\n");
}
