/** The README is the user's manual: every option it must document is there, with its default. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { JOIN_ENV, options, PORT_ENV } from "../../lib/config.ts";

const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");

test("the README documents every flag and environment variable with its default", () => {
  for (const o of options) {
    const row = readme.split("\n").find((line) => line.startsWith(`| \`--${o.flag} `));
    assert.ok(row, `README has a row for --${o.flag}`);
    assert.ok(row.includes(`\`${o.env}\``), `--${o.flag} row names ${o.env}`);
    if (o.default !== "") assert.ok(row.includes(`\`${o.default}\``), `--${o.flag} row gives its default ${o.default}`);
  }
  assert.ok(readme.includes(PORT_ENV) && readme.includes(JOIN_ENV));
});

test("the README's set-up commands are the ones package.json and CI run", () => {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8"));
  const ci = readFileSync(new URL("../../.ci/run", import.meta.url), "utf8");
  for (const command of ["npm install", "npm start", "npm test"]) assert.ok(readme.includes(command), command);
  assert.ok(pkg.scripts.start && pkg.scripts.test);
  assert.match(ci, /^npm install$/m);
  assert.match(ci, /^npm test$/m);
});
