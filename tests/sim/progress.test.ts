/** A long stabilisation round says where it is: pass, keys seen, rate and time left, in /cluster/sync and the log. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { etaMs, Progress } from "../../lib/sync/progress.ts";
import { call, formRing, simCluster } from "../support/sim.ts";

test("eta: the rest at the rate so far; none without a rate", () => {
  assert.equal(etaMs(250, 1000, 1000), 3000);
  assert.equal(etaMs(1000, 1000, 1000), 0);
  assert.equal(etaMs(0, 1000, 1000), undefined);
  const p = new Progress(0);
  p.begin("streaming", 400, 1000);
  p.seen = 100;
  assert.deepEqual(p.view(3000, { keys: 50, bytes: 5000 }), {
    pass: "streaming", keysSeen: 100, keysTotal: 400, percent: 25, elapsedMs: 3000, keysPushedPerSec: 17, bytesPushedPerSec: 1667, etaMs: 6000,
  });
});

test("a slow rebalance shows its pass, rate and time left while it runs, and logs progress", async () => {
  const lines: string[] = [];
  // 20 KB/s of pushes: moving a newcomer's share of 600 KB takes several seconds.
  const c = simCluster({ seed: 3, config: { syncBytesPerSec: 20_000 }, logSink: (line) => lines.push(line) });
  await c.grow(3);
  assert.ok((await formRing(c, 3)) !== undefined);
  const [a] = c.liveIds();
  const value = "v".repeat(1000);
  for (let i = 0; i < 600; i++) assert.equal((await call(c, a!, `PUT /d/key-${i}`, value)).status, 204);
  c.add();
  let seen: { progress?: { pass: string; keysTotal: number; bytesPushedPerSec: number; etaMs?: number }; transfers: Array<{ bytesPerSec: number }> } | undefined;
  for (let t = 0; t < 60_000 && !seen; t += 200) {
    await c.run(200);
    for (const id of c.liveIds()) {
      const status = await (await c.nodes.get(id)!.fetch(new Request(`http://${id}/cluster/sync`))).json();
      if (status.running && status.progress?.bytesPushedPerSec > 0 && status.transfers.some((x: { bytesPerSec: number }) => x.bytesPerSec > 0)) seen = status;
    }
  }
  assert.ok(seen, "some node was caught moving data");
  assert.ok(["hand-off", "streaming", "anti-entropy"].includes(seen.progress!.pass));
  assert.ok(seen.progress!.keysTotal > 0);
  assert.ok((await formRing(c, 4)) !== undefined, "the join completes");
  assert.ok(lines.some((l) => l.includes("stabilisation progress") && /eta=/.test(l)), "a progress line with the time left");
});
