/**
 * Failure detection on real processes with the default timings (period 1 s, ping timeout
 * 0.5 s, k = 3, suspicion mult 4): start N nodes, wait until all see all, SIGKILL one, and
 * poll every survivor's /cluster/members every 100 ms. Reports the time to the first
 * suspicion anywhere, to the first and last survivor marking it dead, and false positives.
 *
 *   npx tsx bench/detection_real.ts [nodes=8] [rounds=3] [runtime=bun]
 */
import { type RunningNode, type Runtime, startNode } from "../tests/support/processes.ts";
import { median } from "./cluster_args.ts";

const count = Number(process.argv[2] ?? 8);
const rounds = Number(process.argv[3] ?? 3);
const runtime = (process.argv[4] ?? "bun") as Runtime;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface View {
  id: string;
  state: string;
}
async function view(n: RunningNode): Promise<View[]> {
  try {
    return (await (await fetch(`${n.url}/cluster/members`)).json()).members;
  } catch {
    return [];
  }
}

interface Round {
  suspectMs: number;
  firstDeadMs: number;
  allDeadMs: number;
  falsePositives: number;
}

async function round(): Promise<Round> {
  const first = await startNode(runtime, []);
  const rest: RunningNode[] = [];
  for (let i = 1; i < count; i += 8) {
    rest.push(...(await Promise.all(Array.from({ length: Math.min(8, count - i) }, () => startNode(runtime, [String(first.port)])))));
  }
  const nodes = [first, ...rest];
  try {
    for (let t = 0; ; t += 250) {
      const views = await Promise.all(nodes.map(view));
      if (views.every((v) => v.length === count && v.every((m) => m.state === "alive"))) break;
      if (t > 60_000) throw new Error("cluster did not converge in 60 s");
      await sleep(250);
    }
    await sleep(3000);
    const victim = nodes[Math.floor(count / 2)]!;
    const victimId = `127.0.0.1:${victim.port}`;
    const survivors = nodes.filter((n) => n !== victim);
    const killedAt = Date.now();
    await victim.stop("SIGKILL");
    let suspectMs = -1;
    let firstDeadMs = -1;
    const falsePositives = new Set<string>();
    for (;;) {
      const views = await Promise.all(survivors.map(view));
      const elapsed = Date.now() - killedAt;
      const states = views.map((v) => v.find((m) => m.id === victimId)?.state);
      if (suspectMs < 0 && states.some((s) => s === "suspect" || s === "dead")) suspectMs = elapsed;
      if (firstDeadMs < 0 && states.some((s) => s === "dead")) firstDeadMs = elapsed;
      views.forEach((v, i) => v.filter((m) => m.id !== victimId && m.state !== "alive").forEach((m) => falsePositives.add(`${survivors[i]!.port} saw ${m.id} ${m.state}`)));
      if (states.every((s) => s === "dead")) return { suspectMs, firstDeadMs, allDeadMs: elapsed, falsePositives: falsePositives.size };
      if (elapsed > 120_000) throw new Error("not every survivor marked the victim dead in 120 s");
      await sleep(100);
    }
  } finally {
    await Promise.all(nodes.map((n) => n.stop()));
  }
}

const results: Round[] = [];
for (let r = 1; r <= rounds; r++) {
  const res = await round();
  results.push(res);
  console.log(`round ${r}: first suspicion ${res.suspectMs} ms, first dead ${res.firstDeadMs} ms, all dead ${res.allDeadMs} ms, false positives ${res.falsePositives}`);
}
const col = (k: keyof Round) => `median ${median(results.map((x) => x[k]))} / max ${Math.max(...results.map((x) => x[k]))}`;
console.log(`\n${count} ${runtime} nodes, ${rounds} rounds, default timings`);
console.log(`first suspicion (ms): ${col("suspectMs")}`);
console.log(`first survivor marks dead (ms): ${col("firstDeadMs")}`);
console.log(`every survivor marks dead (ms): ${col("allDeadMs")}`);
console.log(`false positives: ${results.reduce((a, x) => a + x.falsePositives, 0)}`);
