/**
 * HTTPS on real processes, on every runtime (and one mixed cluster): nodes started with
 * --tls-cert/--tls-key serve the API and the dashboard over TLS and reach each other over
 * it, trusting the CA of --tls-ca; plain HTTP to such a port gets no answer, and a client
 * that does not trust the CA is refused. The certificates are made here with openssl.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { detectRuntime } from "../../adapters/mod.ts";
import { freePort, type RunningNode, type Runtime, runCli, startNode } from "../support/processes.ts";

const runtime = detectRuntime();
const FAST = ["--protocol-period-ms", "300", "--ping-timeout-ms", "150"];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const openssl = (() => {
  try {
    execFileSync("openssl", ["version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();
const skip = openssl ? false : "openssl is not installed: the certificates for this test cannot be made";

/** A CA, and a certificate it signs for 127.0.0.1 (rustls, Deno's TLS, refuses a self-signed CA as a server's). */
function makeCertificates(dir: string, name = "dht-test-ca") {
  const file = (f: string) => join(dir, f);
  const run = (...args: string[]) => execFileSync("openssl", args, { stdio: "ignore" });
  run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", file("ca.key"), "-out", file("ca.pem"), "-days", "2", "-subj", `/CN=${name}`);
  run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", file("key.pem"), "-out", file("node.csr"), "-subj", "/CN=dht-node");
  writeFileSync(file("ext.cnf"), "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n");
  run("x509", "-req", "-in", file("node.csr"), "-CA", file("ca.pem"), "-CAkey", file("ca.key"), "-CAcreateserial", "-out", file("cert.pem"), "-days", "2", "-extfile", file("ext.cnf"));
  return { cert: file("cert.pem"), key: file("key.pem"), ca: file("ca.pem") };
}

/** One HTTPS request trusting `ca` (node:https: every runtime has it, and it takes a CA per request). */
function https(url: string, ca: string, init: { method?: string; body?: string } = {}): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: init.method ?? "GET", ca, timeout: 5_000 }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (text += chunk));
      res.on("end", () => resolve({ status: res.statusCode!, text }));
    });
    req.on("error", reject);
    req.on("timeout", () => req.destroy(new Error("timed out")));
    req.end(init.body);
  });
}

const httpsUrl = (n: RunningNode) => n.url.replace(/^http:/, "https:");

async function tlsCluster(runtimes: readonly Runtime[], files: { cert: string; key: string; ca: string }): Promise<RunningNode[]> {
  const args = [...FAST, "--tls-cert", files.cert, "--tls-key", files.key, "--tls-ca", files.ca];
  const nodes = [await startNode(runtimes[0]!, args)];
  nodes.push(...await Promise.all(runtimes.slice(1).map((rt) => startNode(rt, [...args, String(nodes[0]!.port)]))));
  const ca = readFileSync(files.ca, "utf8");
  for (let i = 0; ; i++) {
    const rings = await Promise.all(nodes.map(async (n) => JSON.parse((await https(`${httpsUrl(n)}/cluster/ring`, ca)).text)));
    if (rings.every((r) => r.members.length === nodes.length && r.phase === "stable")) return nodes;
    if (i > 300) throw new Error(`no agreed ring over TLS: ${JSON.stringify(rings.map((r) => r.members))}`);
    await sleep(100);
  }
}

test(`${runtime}: --tls-cert serves the API and the dashboard over HTTPS, and peers reach each other over it`, { skip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "dht-tls-"));
  const files = makeCertificates(dir);
  const ca = readFileSync(files.ca, "utf8");
  let nodes: RunningNode[] = [];
  try {
    nodes = await tlsCluster([runtime, runtime], files);
    const [a, b] = nodes as [RunningNode, RunningNode];
    assert.equal((await https(`${httpsUrl(a)}/d/k`, ca, { method: "PUT", body: "over tls" })).status, 204);
    assert.deepEqual(await https(`${httpsUrl(b)}/d/k`, ca), { status: 200, text: "over tls" });
    const dashboard = await https(`${httpsUrl(b)}/`, ca);
    assert.equal(dashboard.status, 200);
    assert.match(dashboard.text, /<html/i);
    assert.match(a.output(), /"scheme":"https"/);

    // A client that trusts another CA is refused by its own TLS; plain HTTP gets no answer.
    const other = readFileSync(makeCertificates(mkdtempSync(join(dir, "other-")), "another-ca").ca, "utf8");
    await assert.rejects(https(`${httpsUrl(a)}/health`, other), /certificate|verify/i);
    await assert.rejects(fetch(`${a.url}/health`, { signal: AbortSignal.timeout(5_000) }));

    // status reaches a TLS node at https://, trusting the CA through NODE_EXTRA_CA_CERTS.
    const status = await runCli("node", ["status", httpsUrl(a)], { NODE_EXTRA_CA_CERTS: files.ca });
    assert.equal(status.code, 0, status.stdout + status.stderr);
    assert.match(status.stdout, new RegExp(`cluster seen from https://127\\.0\\.0\\.1:${a.port}`));
  } finally {
    await Promise.all(nodes.map((n) => n.stop("SIGKILL")));
    rmSync(dir, { recursive: true, force: true });
  }
});

test(`${runtime}: TLS files that cannot serve are one line naming the file, exit 2`, { skip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "dht-tls-"));
  const files = makeCertificates(dir);
  const stranger = makeCertificates(mkdtempSync(join(dir, "other-")));
  try {
    const cases: Array<[string[], RegExp]> = [
      [["--tls-cert", join(dir, "missing.pem"), "--tls-key", files.key], /--tls-cert .*missing\.pem: cannot be read/],
      [["--tls-cert", files.cert, "--tls-key", files.cert], /--tls-key .*cert\.pem: holds no PEM private key/],
      [["--tls-cert", files.cert, "--tls-key", stranger.key], /cannot listen on 127\.0\.0\.1:\d+: .*(mismatch|KeyMismatch)/i],
    ];
    for (const [args, message] of cases) {
      const r = await runCli(runtime, [String(await freePort()), ...args]);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
      assert.match(r.stderr, message);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a mixed cluster (Node, Bun, Deno) over TLS: each reaches the others and reads what they wrote", { skip: skip || runtime !== "node" }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "dht-tls-"));
  const files = makeCertificates(dir);
  const ca = readFileSync(files.ca, "utf8");
  let nodes: RunningNode[] = [];
  try {
    nodes = await tlsCluster(["node", "bun", "deno"], files);
    for (const [i, writer] of nodes.entries()) {
      assert.equal((await https(`${httpsUrl(writer)}/d/mixed-${i}`, ca, { method: "PUT", body: writer.runtime })).status, 204);
      for (const reader of nodes) assert.equal((await https(`${httpsUrl(reader)}/d/mixed-${i}`, ca)).text, writer.runtime, `${writer.runtime} → ${reader.runtime}`);
    }
  } finally {
    await Promise.all(nodes.map((n) => n.stop("SIGKILL")));
    rmSync(dir, { recursive: true, force: true });
  }
});
