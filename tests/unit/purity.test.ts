/**
 * lib/ runs unchanged on every runtime and in the simulator: it may reach the runtime,
 * time, randomness, the network and the console only through the injected Env.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

const root = new URL("../../lib/", import.meta.url).pathname;

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : path.endsWith(".ts") ? [path] : [];
  });
}

/**
 * A call of a global function: not a method (`clock.setTimeout(`), not a declaration
 * (`function fetch(`, `setTimeout(fn: () => void`).
 */
function call(names: string): RegExp {
  return new RegExp(`(?<![.\\w]|function\\s+)(${names})\\((?!\\s*\\w+\\??\\s*:)`);
}

const forbidden: Array<[RegExp, string]> = [
  [/from\s+["'](node:|bun|deno)/, "a runtime import"],
  [/\bimport\(\s*["'](node:|bun|deno)/, "a runtime import"],
  [/\b(Bun|Deno)\./, "a runtime global"],
  [/\bprocess\./, "Node's process"],
  [/\bDate\.now\(|new Date\(\)/, "the global clock"],
  [/\bperformance\.now\(/, "the global clock"],
  [/\bMath\.random\(/, "global randomness"],
  [call("setTimeout|setInterval|clearTimeout|clearInterval"), "global timers"],
  [/\bglobalThis\.fetch\b/, "the global fetch"],
  [call("fetch"), "the global fetch"],
  [/\bconsole\./, "the console"],
];

/** Where lib/ defines the real environment: the one place allowed to name the globals. */
const realEnvironment = join(root, "env.ts");

test("lib/ uses no runtime API, global clock, timer, randomness, fetch or console", () => {
  const files = sources(root);
  assert.ok(files.length > 5, `found lib sources under ${root}`);
  const hits: string[] = [];
  for (const file of files) {
    if (file === realEnvironment) continue;
    readFileSync(file, "utf8").split("\n").forEach((line, i) => {
      const code = line.replace(/\/\/.*$/, "");
      if (/^\s*(\*|\/\*)/.test(code)) return;
      for (const [pattern, what] of forbidden) {
        if (pattern.test(code)) hits.push(`${file.slice(root.length)}:${i + 1}: ${what}: ${line.trim()}`);
      }
    });
  }
  assert.deepEqual(hits, []);
});

test("lib/env.ts names no runtime API either", () => {
  const text = readFileSync(realEnvironment, "utf8");
  assert.doesNotMatch(text, /from\s+["'](node:|bun|deno)|\b(Bun|Deno)\.|\bprocess\./);
});

test("client/ runs wherever fetch does: no runtime API, and of lib/ only the ring's placement code", () => {
  const clientDir = new URL("../../client/", import.meta.url).pathname;
  const files = sources(clientDir);
  assert.ok(files.length >= 2, `found client sources under ${clientDir}`);
  const hits: string[] = [];
  for (const file of files) {
    const text = readFileSync(file, "utf8");
    for (const [pattern, what] of forbidden.slice(0, 3)) if (pattern.test(text)) hits.push(`${file}: ${what}`);
    if (/\bprocess\./.test(text)) hits.push(`${file}: Node's process`);
    for (const [, from] of text.matchAll(/^(?:import|export)\b[^;]*?\bfrom\s+["']([^"']+)["']/gm)) {
      if (from!.startsWith("./")) continue;
      if (!/^\.\.\/lib\/ring\/(hash|ring)\.ts$/.test(from!)) hits.push(`${file}: imports ${from}`);
    }
  }
  assert.deepEqual(hits, []);
});
