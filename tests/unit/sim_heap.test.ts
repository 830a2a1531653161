/** The V8 flags `mod.ts simulate` reruns itself with on Node (adapters/sim_heap.ts). */
import { test } from "node:test";
import assert from "node:assert/strict";
import { simulatorFlags } from "../../adapters/sim_heap.ts";

test("simulate asks for a larger young generation, and for heap beyond Node's limit only when N needs it", () => {
  const cases: { nodes: number; given: string[]; limitMb: number; memoryMb: number; flags: string[] }[] = [
    { nodes: 100, given: [], limitMb: 4144, memoryMb: 24_000, flags: ["--max-semi-space-size=64"] },
    { nodes: 2000, given: [], limitMb: 4144, memoryMb: 24_000, flags: ["--max-semi-space-size=64", "--max-old-space-size=5024"] },
    // The machine's memory caps it.
    { nodes: 20_000, given: [], limitMb: 4144, memoryMb: 24_000, flags: ["--max-semi-space-size=64", "--max-old-space-size=18000"] },
    // What the user set stands, in either spelling V8 takes.
    { nodes: 2000, given: ["--max-old-space-size=16000", "--max_semi_space_size=32"], limitMb: 16_000, memoryMb: 24_000, flags: [] },
    { nodes: 2000, given: ["--import", "tsx", "--max-semi-space-size=128"], limitMb: 4144, memoryMb: 24_000, flags: ["--max-old-space-size=5024"] },
  ];
  for (const c of cases) assert.deepEqual(simulatorFlags(c.nodes, c.given, c.limitMb, c.memoryMb), c.flags, JSON.stringify(c));
});
