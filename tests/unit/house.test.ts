/**
 * The shape that keeps the code easy to change (STYLE.md, issue 14): small files with one
 * idea each, and functions a reader can hold in their head.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

const root = new URL("../../lib/", import.meta.url).pathname;
const MAX_FILE_LINES = 300;
const MAX_FUNCTION_LINES = 80;

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : path.endsWith(".ts") ? [path] : [];
  });
}

/** A line that opens a function body: a declaration, a method, or an arrow with a block. */
const opensFunction = [
  /^(\s*)(export\s+)?(async\s+)?function\*?\s+[\w$]+/,
  /^(\s*)(static\s+|private\s+|readonly\s+|override\s+|async\s+|get\s+|set\s+)*#?[\w$]+(<[^>]*>)?\(.*\)(:\s*[^={]+)?\s*\{$/,
  /^(\s*)(export\s+)?(const|let)\s+[\w$]+\s*=\s*(async\s+)?(\([^)]*\)|[\w$]+)(:\s*[^=]+)?\s*=>\s*\{$/,
];
const keywords = /^\s*(if|for|while|switch|catch|return|else|do|try)\b/;

/** Every function in a source text longer than the limit, as "name:line start (lines)". */
function longFunctions(source: string, name: string): string[] {
  const lines = source.split("\n");
  const long: string[] = [];
  lines.forEach((line, i) => {
    if (keywords.test(line) || !line.trimEnd().endsWith("{")) return;
    const match = opensFunction.map((re) => re.exec(line)).find((m) => m);
    if (!match) return;
    const indent = match[1]!.length;
    const end = lines.findIndex((l, j) => j > i && l.length > 0 && l.search(/\S/) === indent && /^\s*[}\]]/.test(l));
    const length = (end < 0 ? lines.length : end) - i + 1;
    if (length > MAX_FUNCTION_LINES) long.push(`${name}:${i + 1} ${line.trim().slice(0, 60)} (${length} lines)`);
  });
  return long;
}

test(`no file under lib/ is longer than ${MAX_FILE_LINES} lines`, () => {
  const files = sources(root);
  assert.ok(files.length > 20, `found lib sources under ${root}`);
  const long = files
    .map((file) => ({ file: file.slice(root.length), lines: readFileSync(file, "utf8").trimEnd().split("\n").length }))
    .filter((f) => f.lines > MAX_FILE_LINES)
    .map((f) => `${f.file}: ${f.lines} lines`);
  assert.deepEqual(long, []);
});

test(`no function under lib/ is longer than ${MAX_FUNCTION_LINES} lines`, () => {
  assert.deepEqual(sources(root).flatMap((file) => longFunctions(readFileSync(file, "utf8"), file.slice(root.length))), []);
});

test("the function-length check finds long functions of every form (its control)", () => {
  const body = Array.from({ length: MAX_FUNCTION_LINES }, (_, i) => `    const x${i} = ${i};`).join("\n");
  const forms = [
    `export async function tooLong(a: number): Promise<void> {\n${body}\n}`,
    `class A {\n  async #tooLong(a: string): Promise<number> {\n${body}\n  }\n}`,
    `const tooLong = async (a: number) => {\n${body}\n};`,
  ];
  for (const form of forms) assert.equal(longFunctions(form, "x").length, 1, form.split("\n")[0]);
  assert.deepEqual(longFunctions(`function short() {\n  return 1;\n}`, "x"), []);
});

/** Every `from "..."` of our own code in a source, resolved relative to lib/. */
function importsOf(file: string): string[] {
  const dir = file.slice(root.length).split("/").slice(0, -1);
  return [...readFileSync(file, "utf8").matchAll(/^(?:import|export)[^;]*? from "(\.{1,2}\/[^"]+)"/gm)].map((m) => {
    const parts = [...dir];
    for (const step of m[1]!.split("/")) {
      if (step === "..") parts.pop();
      else if (step !== ".") parts.push(step);
    }
    return parts.join("/");
  });
}

test("lower layers never import upper ones: lib/wire/ only itself and the store's data; lib/http/ only lib/node.ts and the CLI", () => {
  const files = sources(root);
  const wire = files.filter((f) => f.includes("/lib/wire/")).flatMap((f) => importsOf(f).filter((i) => !i.startsWith("wire/") && !i.startsWith("store/version") && !i.startsWith("store/store")).map((i) => `${f.slice(root.length)} → ${i}`));
  assert.deepEqual(wire, []);
  const http = files.filter((f) => !f.includes("/lib/http/")).flatMap((f) => importsOf(f).filter((i) => i.startsWith("http/")).map((i) => `${f.slice(root.length)} → ${i}`));
  assert.deepEqual(http.filter((line) => !/^(node|status)\.ts →/.test(line)), []);
});
