/** The command line of SPEC.md on every runtime: real processes, real exit codes. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { freePort, root, runCli, runtimes, startNode } from "../support/processes.ts";

for (const runtime of runtimes) {
  test(`${runtime}: --help prints usage and exits 0`, async () => {
    const r = await runCli(runtime, ["--help"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^usage: mod\.ts <port> \[introducer\] \[options\]/);
    assert.match(r.stdout, /--max-value-bytes BYTES/);
  });

  test(`${runtime}: a bad argument is one line on stderr naming it, exit 2`, async () => {
    for (const args of [["--replicas", "zero", "8000"], ["70000"], ["8000", "--nope"], []]) {
      const r = await runCli(runtime, args);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      const lines = r.stderr.trim().split("\n");
      assert.equal(lines.length, 1, `one line for ${args.join(" ")}: ${r.stderr}`);
      assert.match(lines[0]!, /^dht-node: /);
      assert.equal(r.stdout, "");
    }
  });

  test(`${runtime}: a port already in use is one clear line, exit 2`, async () => {
    const busy = await startNode(runtime);
    try {
      const r = await runCli(runtime, [String(busy.port)]);
      assert.equal(r.code, 2);
      assert.equal(r.stderr.trim(), `dht-node: cannot listen on 127.0.0.1:${busy.port}: address already in use`);
    } finally {
      await busy.stop();
    }
  });

  test(`${runtime}: status prints the members and exits 0 on one agreed ring, 1 once a member is gone, 2 for a bad address`, async () => {
    const timings = ["--protocol-period-ms", "300", "--ping-timeout-ms", "150"];
    const first = await startNode(runtime, timings);
    const second = await startNode(runtime, [String(first.port), ...timings]);
    try {
      let r = await runCli(runtime, ["status", String(first.port)]);
      for (let tries = 0; r.code !== 0 && tries < 40; tries++) {
        await new Promise((resolve) => setTimeout(resolve, 250)); // until the ring holds both
        r = await runCli(runtime, ["status", String(first.port)]);
      }
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, new RegExp(`127\\.0\\.0\\.1:${second.port}\\s+alive\\s+${runtime}`));
      assert.match(r.stdout, /every one on the same ring/);
      await second.stop("SIGKILL");
      r = await runCli(runtime, ["status", `127.0.0.1:${first.port}`]);
      for (let tries = 0; r.code === 0 && tries < 40; tries++) {
        await new Promise((resolve) => setTimeout(resolve, 250)); // until it is suspected or dead
        r = await runCli(runtime, ["status", `127.0.0.1:${first.port}`]);
      }
      assert.equal(r.code, 1, r.stdout);
      assert.match(r.stdout, new RegExp(`! 127\\.0\\.0\\.1:${second.port} (is suspect|is dead|did not answer)`));
      const bad = await runCli(runtime, ["status", "no:port:here"]);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /^dht-node: status: the address must be PORT, HOST:PORT or https:\/\/HOST:PORT/);
    } finally {
      await Promise.all([first.stop(), second.stop("SIGKILL")]);
    }
  });

  test(`${runtime}: simulate runs the real code on a virtual cluster: the same seed, the same figures; a bad line exits 2`, async () => {
    const line = ["simulate", "--nodes", "4", "--seed", "3", "--protocol-period-ms", "500", "--ping-timeout-ms", "200", "--json"];
    const [a, b] = await Promise.all([runCli(runtime, line), runCli(runtime, line)]);
    assert.equal(a.code, 0, a.stderr);
    const [first, second] = [JSON.parse(a.stdout), JSON.parse(b.stdout)];
    for (const field of ["joinConvergedMs", "ringConvergedMs", "epochs", "distinctViews", "falsePositives", "messagesPerMemberPerPeriod", "bytesPerMemberPerPeriod", "wallMs"]) {
      assert.equal(typeof first[field], "number", `${field} in ${a.stdout}`);
    }
    assert.equal(typeof first.detection.allMs, "number", "the crashed member was declared dead by every survivor");
    assert.equal(first.falsePositives, 0);
    assert.deepEqual({ ...first, wallMs: 0 }, { ...second, wallMs: 0 }, "deterministic from the seed");
    const human = await runCli(runtime, ["simulate", "--nodes", "3", "--crash", "0"]);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /^simulated 3 nodes, seed 1/);
    assert.match(human.stdout, /members converged +\d+\.\d s after the first start/);
    const bad = await runCli(runtime, ["simulate", "--nodes", "3", "--loss", "2"]);
    assert.equal(bad.code, 2);
    assert.equal(bad.stderr, "dht-node: simulate: --loss must be a probability from 0 to below 1: received '2'\n");
  });

  test(`${runtime}: the environment configures the node`, async () => {
    const port = await freePort();
    const r = await runCli(runtime, [], { DHT_PORT: String(port), DHT_REPLICAS: "abc" });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /DHT_REPLICAS must be an integer/);
  });
}

test("the tsx CLI users type (npx tsx mod.ts) relays SIGTERM: the node leaves and exits 0", async () => {
  const port = await freePort();
  const child = spawn(`${root}node_modules/.bin/tsx`, ["mod.ts", String(port), "--log", "json"], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout!.setEncoding("utf8").on("data", (s: string) => (out += s));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const deadline = Date.now() + 30_000;
  while (!out.includes('"event":"listening"') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  process.kill(child.pid!, "SIGTERM");
  assert.equal(await exited, 0, out);
  assert.match(out, /"event":"stopped"/);
});
