/**
 * The dashboard in a real browser (headless Chromium through playwright-core): a cluster
 * of real processes, every member listed alive; one SIGKILLed shows suspect, then dead,
 * on the open page without a reload; the key lookup names the key's replicas.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { detectRuntime } from "../../adapters/mod.ts";
import { ringsAgree, type RunningNode, startNode } from "../support/processes.ts";

const CHROMIUM = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => existsSync(p));
const skip = detectRuntime() !== "node"
  ? "runs under Node's test runner (playwright-core drives the browser from Node)"
  : CHROMIUM === undefined
  ? "no Chromium at /usr/bin/chromium (apt-get install chromium; .ci/run does)"
  : false;
if (skip) console.log(`dashboard browser test skipped: ${skip}`);

const idOf = (n: RunningNode) => `127.0.0.1:${n.port}`;

test("the dashboard lists the members, shows a SIGKILLed one turn suspect then dead without a reload, and finds a key's replicas", { skip }, async () => {
  const { chromium } = await import("playwright-core");
  const first = await startNode("node");
  const nodes = [first, ...await Promise.all((["bun", "deno", "node"] as const).map((rt) => startNode(rt, [String(first.port)])))];
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
  try {
    await ringsAgree(nodes);
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on("pageerror", (err) => errors.push(String(err)));
    await page.goto(`${first.url}/`);
    await page.evaluate(() => ((window as unknown as { loadedOnce: boolean }).loadedOnce = true));
    await page.waitForFunction((n) => document.querySelectorAll('tr[data-member][data-state="alive"]').length === n, nodes.length, { timeout: 15_000 });
    for (const n of nodes) assert.equal(await page.getAttribute(`tr[data-member="${idOf(n)}"]`, "data-state"), "alive");
    await page.waitForFunction(() => document.getElementById("agreement")?.dataset.agreed === "true", undefined, { timeout: 15_000 });

    // Where does this key live: the replicas /cluster/locate names, each with the version written.
    const put = await fetch(`${nodes[1]!.url}/d/${encodeURIComponent("where am I")}`, { method: "PUT", body: "here" });
    const version = put.headers.get("x-dht-version");
    const located = await (await fetch(`${first.url}/cluster/locate/${encodeURIComponent("where am I")}`)).json();
    await page.fill("#key", "where am I");
    await page.click("#lookup button");
    await page.waitForFunction((n) => document.querySelectorAll("#copies li[data-replica]").length === n, located.replicas.length, { timeout: 10_000 });
    const shown = await page.$$eval("#copies li[data-replica]", (items) => items.map((li) => [li.getAttribute("data-replica"), li.textContent]));
    assert.deepEqual(shown.map(([id]) => id), located.replicas);
    for (const [, text] of shown) assert.ok(text!.includes(version!), `each replica shows the version written: ${text}`);

    // A crash: the open page follows it, alive → suspect → dead.
    const victim = nodes[3]!;
    await victim.stop("SIGKILL");
    const row = `tr[data-member="${idOf(victim)}"]`;
    const states = new Set<string>();
    const deadline = Date.now() + 40_000;
    while (Date.now() < deadline && !states.has("dead")) {
      states.add((await page.getAttribute(row, "data-state")) ?? "missing");
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(states.has("suspect"), `the page showed it suspect first: ${[...states]}`);
    assert.ok(states.has("dead"), `then dead: ${[...states]}`);
    assert.equal(await page.evaluate(() => (window as unknown as { loadedOnce?: boolean }).loadedOnce), true, "without a reload");
    // The event log says so too, and explain tells why.
    await page.waitForSelector(`#events li[data-member="${idOf(victim)}"][data-event="dead"]`, { timeout: 10_000 });
    await page.click(row);
    await page.waitForSelector('#explain li[data-event="suspected"]', { timeout: 10_000 });
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await Promise.all(nodes.map((n) => n.stop("SIGKILL")));
  }
});
