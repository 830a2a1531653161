/**
 * Our 3-node cluster beside a 3-member etcd, under the same wrk load: what a user who wants
 * a linearizable key-value store would otherwise run. etcd is Debian's `etcd-server`, its
 * data on tmpfs (so its fsyncs cost what ours, in memory, do not), reached through its
 * JSON gateway (`POST /v3/kv/range`, `/v3/kv/put`: linearizable reads by default). Both
 * get one wrk thread with 32 connections to one member; GETs read one 100-byte value, PUTs
 * overwrite 1,000 keys with 100-byte values. The two alternate for 3 rounds; medians.
 *
 *   npx tsx bench/etcd.ts [runtime=bun] [seconds=5]
 *
 * Skips, saying so, where `etcd` or `wrk` is not installed.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { freePort, type Runtime, startCluster } from "../tests/support/processes.ts";
import { installed, median } from "./cluster_args.ts";
import { type Figures, wrk as runWrk } from "./wrk.ts";

const runtime = (process.argv[2] ?? "bun") as Runtime;
const seconds = Number(process.argv[3] ?? 5);
const missing = ["etcd", "wrk"].filter((tool) => !installed(tool));
if (missing.length > 0) {
  console.log(`skipped: ${missing.join(" and ")} not installed (apt-get install ${missing.map((t) => (t === "etcd" ? "etcd-server" : t)).join(" ")})`);
  process.exit(0);
}

const b64 = (text: string) => Buffer.from(text).toString("base64");
const VALUE = "v".repeat(100);
const KEYS = 1_000;

/** The wrk scripts: a Lua table of the keys each PUT picks from, in the body each store wants. */
function scripts(dir: string): Record<"oursPut" | "etcdGet" | "etcdPut", string> {
  const lua = (name: string, body: string) => {
    const path = join(dir, `${name}.lua`);
    writeFileSync(path, body);
    return path;
  };
  const bodies = Array.from({ length: KEYS }, (_, i) => JSON.stringify(JSON.stringify({ key: b64(`k${i}`), value: b64(VALUE) })));
  return {
    oursPut: lua("ours_put", `local n = 0\nlocal value = string.rep("v", 100)\nrequest = function()\n  n = n + 1\n  return wrk.format("PUT", "/d/k" .. (n % ${KEYS}), { ["Content-Type"] = "application/octet-stream" }, value)\nend\n`),
    etcdGet: lua("etcd_get", `wrk.method = "POST"\nwrk.body = ${JSON.stringify(JSON.stringify({ key: b64("bench") }))}\nwrk.headers["Content-Type"] = "application/json"\n`),
    etcdPut: lua("etcd_put", `local bodies = {${bodies.join(",")}}\nlocal n = 0\nrequest = function()\n  n = n + 1\n  return wrk.format("POST", "/v3/kv/put", { ["Content-Type"] = "application/json" }, bodies[(n % ${KEYS}) + 1])\nend\n`),
  };
}

/** Three etcd members on loopback, data in a tmpfs directory; resolves with their client URLs once each answers /health. */
async function startEtcd(dir: string) {
  const members = await Promise.all([1, 2, 3].map(async (i) => ({ name: `e${i}`, client: await freePort(), peer: await freePort() })));
  const cluster = members.map((m) => `${m.name}=http://127.0.0.1:${m.peer}`).join(",");
  const children = members.map((m) =>
    spawn("etcd", [
      "--name", m.name, "--data-dir", join(dir, m.name), "--log-level", "error",
      "--listen-client-urls", `http://127.0.0.1:${m.client}`, "--advertise-client-urls", `http://127.0.0.1:${m.client}`,
      "--listen-peer-urls", `http://127.0.0.1:${m.peer}`, "--initial-advertise-peer-urls", `http://127.0.0.1:${m.peer}`,
      "--initial-cluster", cluster, "--initial-cluster-state", "new",
    ], { stdio: "ignore" })
  );
  const urls = members.map((m) => `http://127.0.0.1:${m.client}`);
  for (const url of urls) {
    for (let i = 0; ; i++) {
      const ok = await fetch(`${url}/health`).then((r) => r.ok, () => false);
      if (ok) break;
      if (i > 200) throw new Error(`etcd at ${url} did not come up`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return { urls, stop: () => children.forEach((c) => c.kill("SIGKILL")) };
}

const tmp = mkdtempSync("/dev/shm/dht-etcd-bench-");
const etcd = await startEtcd(tmp);
const nodes = await startCluster([runtime, runtime, runtime]);
try {
  const lua = scripts(tmp);
  const ours = nodes[0]!.url;
  await fetch(`${ours}/d/bench`, { method: "PUT", body: VALUE });
  await fetch(`${etcd.urls[0]}/v3/kv/put`, { method: "POST", body: JSON.stringify({ key: b64("bench"), value: b64(VALUE) }) });
  const wrk = (url: string, script?: string) => runWrk(url, { seconds, script });
  const runs = { oursGet: [] as Figures[], etcdGet: [] as Figures[], oursPut: [] as Figures[], etcdPut: [] as Figures[] };
  for (let round = 0; round < 3; round++) {
    runs.oursGet.push(await wrk(`${ours}/d/bench`));
    runs.etcdGet.push(await wrk(`${etcd.urls[0]}/v3/kv/range`, lua.etcdGet));
    runs.oursPut.push(await wrk(ours, lua.oursPut));
    runs.etcdPut.push(await wrk(`${etcd.urls[0]}/v3/kv/put`, lua.etcdPut));
  }
  const row = (name: string, f: Figures[]) =>
    `${name.padEnd(14)} ${String(Math.round(median(f.map((x) => x.rate)))).padStart(8)}/s   p50 ${median(f.map((x) => x.p50)).toFixed(2)} ms   p99 ${median(f.map((x) => x.p99)).toFixed(2)} ms   errors ${f.reduce((s, x) => s + x.errors, 0)}`;
  const version = spawnSync("etcd", ["--version"], { encoding: "utf8" }).stdout.split("\n")[0];
  console.log(`3 ${runtime} nodes beside 3 etcd members (${version}, data on tmpfs); wrk -t1 -c32, ${seconds} s x 3 rounds, medians`);
  console.log(row("ours GET", runs.oursGet));
  console.log(row("etcd GET", runs.etcdGet));
  console.log(row("ours PUT", runs.oursPut));
  console.log(row("etcd PUT", runs.etcdPut));
  const ratio = (a: Figures[], b: Figures[]) => (median(a.map((x) => x.rate)) / median(b.map((x) => x.rate))).toFixed(1);
  console.log(`GET ${ratio(runs.oursGet, runs.etcdGet)}x etcd's, PUT ${ratio(runs.oursPut, runs.etcdPut)}x`);
} finally {
  etcd.stop();
  await Promise.all(nodes.map((n) => n.stop("SIGKILL")));
  rmSync(tmp, { recursive: true, force: true });
}
