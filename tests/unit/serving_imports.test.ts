/**
 * What a serving node loads. Every module a runtime loads stays resident in every node,
 * with the runtime's own code behind it (docs/benchmarks.md, "Beside Serf"): the
 * subcommands (`status`, `recover`, `simulate`) and what only some nodes need (the files
 * module, node:crypto's cipher) are imported when they are used, never statically from the
 * entry point or the adapters.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";

const root = new URL("../../", import.meta.url).pathname;
/** The entry point, and the adapters it loads by runtime. */
const SERVING_ROOTS = ["mod.ts", "adapters/bun.ts", "adapters/deno.ts", "adapters/node.ts"];
/** Modules only a subcommand or an option needs. */
const NOT_WHILE_SERVING = [/^node:readline/, /^node:crypto$/, /^node:fs\/promises$/, /^node:child_process$/, /^node:os$/, /^lib\/sim\//, /^lib\/recover_command\.ts$/, /^lib\/status\.ts$/, /^adapters\/(commands|aead|sim_heap)\.ts$/];

/** The modules a source imports statically (type-only imports are erased), our own resolved from the repository's root. */
function staticImports(file: string): string[] {
  const dir = file.split("/").slice(0, -1);
  const text = readFileSync(root + file, "utf8");
  return [...text.matchAll(/^(?:import|export)(?!\s+type\b)[^;]*? from "([^"]+)"|^import "([^"]+)"/gm)].map((m) => {
    const spec = (m[1] ?? m[2])!;
    if (!spec.startsWith(".")) return spec;
    const parts = [...dir];
    for (const step of spec.split("/")) {
      if (step === "..") parts.pop();
      else if (step !== ".") parts.push(step);
    }
    return parts.join("/");
  });
}

/** Every module reached from the roots through static imports, as "importer → module". */
function reached(roots: string[]): Map<string, string> {
  const seen = new Map<string, string>(roots.map((r) => [r, "(root)"]));
  const queue = [...roots];
  for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
    for (const spec of staticImports(file)) {
      if (seen.has(spec)) continue;
      seen.set(spec, file);
      if (spec.endsWith(".ts") && !spec.startsWith("node:")) queue.push(spec);
    }
  }
  return seen;
}

const unwanted = (modules: Map<string, string>) => [...modules].filter(([m]) => NOT_WHILE_SERVING.some((re) => re.test(m))).map(([m, by]) => `${by} → ${m}`);

test("a serving node never loads a subcommand's modules, node:crypto or the files module", () => {
  assert.deepEqual(unwanted(reached(SERVING_ROOTS)), []);
});

test("the walk finds what the subcommands import (its control)", () => {
  const found = unwanted(reached(["adapters/commands.ts"]));
  for (const module of ["node:readline/promises", "lib/sim/experiment.ts", "lib/recover_command.ts", "lib/status.ts"]) assert.ok(found.some((line) => line.endsWith(`→ ${module}`)), module);
});
