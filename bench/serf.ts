/**
 * Failure detection beside Serf (Debian's `serf`: memberlist with its LAN defaults), the
 * same way on both: start N members, wait until every one lists every other alive (ours:
 * and holds a stable ring of all N, so that idle is idle and not a ring still forming), watch
 * them idle for a while (CPU and RSS per member), SIGKILL K at once, and time until every
 * survivor holds each of them dead; then count false positives (anyone else held anything
 * but alive). Ours are polled at /cluster/members every 100 ms; each Serf agent writes a
 * line from its `member-failed` event handler, with the time, so neither side is slowed by
 * being watched. The two run one after the other, never together.
 *
 *   npx tsx bench/serf.ts [members=24] [kills=3] [runtime=bun]
 *
 * Skips, saying so, where `serf` is not installed (apt-get install serf).
 */
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { freePort, type RunningNode, type Runtime, startNode } from "../tests/support/processes.ts";
import { installed, median } from "./cluster_args.ts";

const count = Number(process.argv[2] ?? 24);
const kills = Number(process.argv[3] ?? 3);
const runtime = (process.argv[4] ?? "bun") as Runtime;
const IDLE_MS = 20_000;
/** How long both sides sit idle before that is measured: a JIT runtime keeps compiling for a while after start. */
const SETTLE_MS = 30_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
if (!installed("serf")) {
  console.log("skipped: serf is not installed (apt-get install serf)");
  process.exit(0);
}

interface Outcome {
  /** ms from the kill until every survivor held each killed member dead: median over the killed, and the worst. */
  medianMs: number;
  worstMs: number;
  falsePositives: number;
  /** Idle, per member: CPU % of one core; resident MiB, and its proportional share (pages shared with other members, such as the runtime's code, split between them). */
  cpuPercent: number;
  rssMiB: number;
  pssMiB: number;
}

/** CPU seconds (user + system), resident bytes and proportional bytes of processes, from /proc. */
function usage(pids: number[]): { cpuS: number; rss: number; pss: number } {
  const tick = 100;
  let cpuS = 0;
  let rss = 0;
  let pss = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      cpuS += (Number(fields[11]) + Number(fields[12])) / tick;
      rss += Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) * 1024;
      pss += Number(/^Pss:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, "utf8"))?.[1] ?? 0) * 1024;
    } catch {
      // gone
    }
  }
  return { cpuS, rss, pss };
}

/** Idle cost per member over IDLE_MS, once SETTLE_MS have passed. */
async function idle(pids: number[]): Promise<{ cpuPercent: number; rssMiB: number; pssMiB: number }> {
  await sleep(SETTLE_MS);
  const before = usage(pids);
  await sleep(IDLE_MS);
  const after = usage(pids);
  const perMember = (bytes: number) => bytes / pids.length / 2 ** 20;
  return { cpuPercent: (100 * (after.cpuS - before.cpuS)) / (IDLE_MS / 1000) / pids.length, rssMiB: perMember(after.rss), pssMiB: perMember(after.pss) };
}

const pick = <T>(list: T[], n: number) => list.filter((_, i) => i > 0 && i % Math.floor(list.length / n) === 0).slice(0, n);

async function ours(): Promise<Outcome> {
  const first = await startNode(runtime, []);
  const nodes: RunningNode[] = [first];
  for (let i = 1; i < count; i += 8) nodes.push(...(await Promise.all(Array.from({ length: Math.min(8, count - i) }, () => startNode(runtime, [String(first.port)])))));
  const members = async (n: RunningNode): Promise<Array<{ id: string; state: string }>> => {
    try {
      return (await (await fetch(`${n.url}/cluster/members`)).json()).members;
    } catch {
      return [];
    }
  };
  const settledRing = async (n: RunningNode): Promise<boolean> => {
    try {
      const ring = await (await fetch(`${n.url}/cluster/ring`)).json();
      return ring.phase === "stable" && ring.members.length === count;
    } catch {
      return false;
    }
  };
  try {
    while (!(await Promise.all(nodes.map(members))).every((v) => v.length === count && v.every((m) => m.state === "alive"))) await sleep(250);
    while (!(await Promise.all(nodes.map(settledRing))).every(Boolean)) await sleep(250);
    const cost = await idle(nodes.map((n) => n.child.pid!));
    const victims = pick(nodes, kills);
    const ids = new Set(victims.map((v) => `127.0.0.1:${v.port}`));
    const survivors = nodes.filter((n) => !victims.includes(n));
    const killedAt = Date.now();
    await Promise.all(victims.map((v) => v.stop("SIGKILL")));
    const allDead = new Map<string, number>();
    const wrong = new Set<string>();
    while (allDead.size < ids.size && Date.now() - killedAt < 120_000) {
      const views = await Promise.all(survivors.map(members));
      for (const id of ids) if (!allDead.has(id) && views.every((v) => v.find((m) => m.id === id)?.state === "dead")) allDead.set(id, Date.now() - killedAt);
      views.forEach((v, i) => v.filter((m) => !ids.has(m.id) && m.state !== "alive").forEach((m) => wrong.add(`${survivors[i]!.port}: ${m.id} ${m.state}`)));
      await sleep(100);
    }
    const times = [...allDead.values()];
    return { medianMs: median(times), worstMs: Math.max(...times), falsePositives: wrong.size, ...cost };
  } finally {
    await Promise.all(nodes.map((n) => n.stop("SIGKILL")));
  }
}

async function serf(): Promise<Outcome> {
  const dir = mkdtempSync("/tmp/dht-serf-bench-");
  const handler = join(dir, "handler.sh");
  // Each line of a member-failed event names a member: record who saw it, when (ms).
  writeFileSync(handler, `#!/bin/sh\nwhile read name rest; do echo "$1 $name $(date +%s%3N)" >> ${join(dir, "failed.log")}; done\n`);
  chmodSync(handler, 0o755);
  // Distinct ports: freePort may hand out one it gave before, and an agent that cannot bind exits.
  const ports = new Set<number>();
  while (ports.size < 2 * count) ports.add(await freePort());
  const free = [...ports];
  const agents = Array.from({ length: count }, (_, i) => ({ name: `s${i}`, bind: free[2 * i]!, rpc: free[2 * i + 1]! }));
  // -retry-join: with -join, an agent started before the first is listening exits.
  const children = agents.map((a, i) =>
    spawn("serf", ["agent", `-node=${a.name}`, `-bind=127.0.0.1:${a.bind}`, `-rpc-addr=127.0.0.1:${a.rpc}`, "-log-level=err", `-event-handler=member-failed=${handler} ${a.name}`, ...(i > 0 ? [`-retry-join=127.0.0.1:${agents[0]!.bind}`, "-retry-interval=1s"] : [])], { stdio: "ignore" })
  );
  const alive = (a: (typeof agents)[number]) => spawnSync("serf", ["members", `-rpc-addr=127.0.0.1:${a.rpc}`, "-status=alive"], { encoding: "utf8" }).stdout.trim().split("\n").filter(Boolean).length;
  try {
    for (let t = 0; !agents.every((a) => alive(a) === count); t++) {
      if (t > 240) throw new Error(`the Serf agents did not all see each other in 60 s (${children.filter((c) => c.exitCode !== null).length} of ${count} exited)`);
      await sleep(250);
    }
    const cost = await idle(children.map((c) => c.pid!));
    const victims = pick(agents, kills);
    const survivors = agents.filter((a) => !victims.includes(a));
    const killedAt = Date.now();
    for (const v of victims) children[agents.indexOf(v)]!.kill("SIGKILL");
    const seen = () => readFileSync(join(dir, "failed.log"), "utf8").trim().split("\n").map((l) => l.split(" ")).map(([by, name, at]) => ({ by: by!, name: name!, at: Number(at) }));
    const allDead = new Map<string, number>();
    let events: ReturnType<typeof seen> = [];
    while (allDead.size < victims.length && Date.now() - killedAt < 120_000) {
      await sleep(200);
      events = (() => {
        try {
          return seen();
        } catch {
          return [];
        }
      })();
      for (const v of victims) {
        const by = events.filter((e) => e.name === v.name);
        if (!allDead.has(v.name) && survivors.every((s) => by.some((e) => e.by === s.name))) allDead.set(v.name, Math.max(...by.map((e) => e.at)) - killedAt);
      }
    }
    const falsePositives = new Set(events.filter((e) => !victims.some((v) => v.name === e.name)).map((e) => `${e.by}: ${e.name}`)).size;
    const times = [...allDead.values()];
    return { medianMs: median(times), worstMs: Math.max(...times), falsePositives, ...cost };
  } finally {
    children.forEach((c) => c.kill("SIGKILL"));
    rmSync(dir, { recursive: true, force: true });
  }
}

const version = spawnSync("serf", ["version"], { encoding: "utf8" }).stdout.split("\n")[0];
const results = { ours: await ours(), serf: await serf() };
console.log(`${count} members, ${kills} SIGKILLed at once; ours on ${runtime} (default timings), ${version} (LAN defaults); idle measured over ${IDLE_MS / 1000} s after ${SETTLE_MS / 1000} s of it`);
for (const [name, r] of Object.entries(results)) {
  console.log(`${name.padEnd(5)} every survivor holds each dead: median ${(r.medianMs / 1000).toFixed(1)} s, worst ${(r.worstMs / 1000).toFixed(1)} s; false positives ${r.falsePositives}; idle ${r.cpuPercent.toFixed(2)}% CPU, ${r.rssMiB.toFixed(0)} MiB RSS (${r.pssMiB.toFixed(0)} MiB PSS) per member`);
}
