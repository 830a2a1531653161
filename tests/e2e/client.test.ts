/**
 * The client (`dht-node/client`, imported by its package name) on each runner's runtime,
 * against real nodes: it places keys where the nodes do, and keeps answering at once after
 * an owner is SIGKILLed, by trying the next owner when the connection is refused (each
 * runtime words that refusal its own way).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { connect } from "dht-node/client";
import { refused } from "../../client/attempts.ts";
import { detectRuntime } from "../../adapters/mod.ts";
import { startCluster } from "../support/processes.ts";

const runtime = detectRuntime();
const FAST = ["--protocol-period-ms", "500", "--ping-timeout-ms", "250"];

test(`${runtime}: the client routes to owners, and reads and writes go on at once when an owner is SIGKILLed`, async () => {
  const nodes = await startCluster([runtime, runtime, runtime, runtime], FAST);
  try {
    const db = await connect(`127.0.0.1:${nodes[0]!.port}`);
    const keys = Array.from({ length: 20 }, (_, i) => `item:${i}`);
    for (const key of keys) {
      const located = (await (await fetch(`${nodes[1]!.url}/cluster/locate/${key}`)).json()).replicas;
      assert.deepEqual(db.owners(key), located, key);
      assert.equal((await db.put(key, new TextEncoder().encode(key))).ok, true);
    }
    const victim = nodes.find((n) => db.owners(keys[0]!).includes(`127.0.0.1:${n.port}`) && n !== nodes[0])!;
    await victim.stop("SIGKILL");
    const error = await fetch(`${victim.url}/health`).then(() => undefined, (e: unknown) => e);
    assert.ok(refused(error), `this runtime's refusal is recognised: ${String(error)} ${JSON.stringify((error as { cause?: unknown })?.cause ?? {})}`);
    for (const key of keys) {
      const read = await db.get(key);
      assert.equal(read?.text(), key, `${key} read after the SIGKILL`);
      // A conditional write is sent again only after a refusal: never answered "outcome unknown" here.
      assert.equal((await db.put(key, "again", { ifMatch: read!.version })).ok, true, `${key} written after the SIGKILL`);
    }
    assert.deepEqual((await db.list({ prefix: "item:1" })).keys.sort(), keys.filter((k) => k.startsWith("item:1")).sort());
  } finally {
    await Promise.all(nodes.map((n) => n.stop("SIGKILL")));
  }
});
