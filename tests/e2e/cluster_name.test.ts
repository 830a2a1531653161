/**
 * Cluster names on real processes, on every runtime: a node of cluster `green` started with
 * a `blue` node as its introducer is refused; neither lists the other, and the refusing
 * side logs one line naming both names.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { detectRuntime } from "../../adapters/mod.ts";
import { startNode } from "../support/processes.ts";

const runtime = detectRuntime();
const FAST = ["--protocol-period-ms", "300", "--ping-timeout-ms", "150"];

test(`${runtime}: a node of another cluster name, introduced by mistake, is never admitted`, async () => {
  const blue = await startNode(runtime, [...FAST, "--cluster-name", "blue"]);
  const green = await startNode(runtime, [...FAST, String(blue.port)], { DHT_CLUSTER_NAME: "green" });
  try {
    await new Promise((r) => setTimeout(r, 2_500)); // the joiner retries; several probe periods pass
    const members = async (url: string) => (await (await fetch(`${url}/cluster/members`)).json()).members.map((m: { id: string }) => m.id);
    assert.deepEqual(await members(blue.url), [`127.0.0.1:${blue.port}`]);
    assert.deepEqual(await members(green.url), [`127.0.0.1:${green.port}`]);
    const refusal = blue.output().split("\n").filter((line) => line.includes("refused a message from another cluster"));
    assert.equal(refusal.length, 1, blue.output());
    assert.match(refusal[0]!, /"ours":"blue".*"theirs":"green"/);
    assert.match(await (await fetch(`${blue.url}/metrics`)).text(), /dht_peer_refused_total\{reason="cluster-name"\} [1-9]/);
  } finally {
    await Promise.all([blue.stop("SIGKILL"), green.stop("SIGKILL")]);
  }
});
