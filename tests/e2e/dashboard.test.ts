/**
 * The dashboard in a real browser (headless Chromium through playwright-core): a cluster
 * of real processes, every member listed alive; one SIGKILLed shows suspect, then dead,
 * on the open page without a reload; the key lookup names the key's replicas. Two lost
 * at once: the page offers to recover their ranges, and acts only once the operator says yes.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { detectRuntime } from "../../adapters/mod.ts";
import type { Page } from "playwright-core";
import { type RunningNode, type Runtime, startCluster } from "../support/processes.ts";

const CHROMIUM = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => existsSync(p));
const skip = detectRuntime() !== "node"
  ? "runs under Node's test runner (playwright-core drives the browser from Node)"
  : CHROMIUM === undefined
  ? "no Chromium at /usr/bin/chromium (apt-get install chromium; .ci/run does)"
  : false;
if (skip) console.log(`dashboard browser test skipped: ${skip}`);

const idOf = (n: RunningNode) => `127.0.0.1:${n.port}`;

/** A cluster of these runtimes and the first node's dashboard open in headless Chromium; `body` runs against them, then all is closed. */
async function withDashboard(runtimes: Runtime[], args: string[], body: (c: { nodes: RunningNode[]; page: Page; errors: string[] }) => Promise<void>): Promise<void> {
  const { chromium } = await import("playwright-core");
  const nodes = await startCluster(runtimes, args);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
  try {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on("pageerror", (err) => errors.push(String(err)));
    await page.goto(`${nodes[0]!.url}/`);
    await body({ nodes, page, errors });
    assert.deepEqual(errors, [], "no script error on the page");
  } finally {
    await browser.close();
    await Promise.all(nodes.map((n) => n.stop("SIGKILL")));
  }
}

test("the dashboard lists the members, shows a SIGKILLed one turn suspect then dead without a reload, and finds a key's replicas", { skip }, () =>
  withDashboard(["node", "bun", "deno", "node"], [], async ({ nodes, page }) => {
    const first = nodes[0]!;
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
  }));

test("two members lost at once: the dashboard offers to recover their ranges, asks first, and records who did", { skip }, () =>
  withDashboard(["node", "bun", "deno", "node", "bun"], ["--protocol-period-ms", "300", "--ping-timeout-ms", "150", "--removal-delay-ms", "1000"], async ({ nodes, page }) => {
    assert.equal(await page.isVisible("#recover-box"), false, "no button while every range has its quorum");
    await Promise.all([nodes[2]!.stop("SIGKILL"), nodes[4]!.stop("SIGKILL")]);
    await page.waitForSelector("#recover-box:not([hidden])", { timeout: 40_000 });
    await page.click("#recover-open");
    await page.waitForSelector("#recover-ranges li[data-range]", { timeout: 10_000 });
    const listed = await page.$$eval("#recover-ranges li[data-range]", (items) => items.map((li) => li.textContent ?? ""));
    for (const line of listed) assert.match(line, /dead .*(kept|missing)/);
    assert.match(await page.textContent("#recover-warning") ?? "", /gone for good/);
    assert.equal(await page.isDisabled("#recover-confirm"), true, "nothing happens before the operator types yes");
    await page.fill("#recover-yes", "yes");
    await page.click("#recover-confirm");
    await page.waitForSelector('#recover-result[data-done="true"]', { timeout: 20_000 });
    const ring = await (await fetch(`${nodes[0]!.url}/cluster/ring`)).json();
    assert.match(ring.recoveries.at(-1).by, /the dashboard at 127\.0\.0\.1/);
    assert.equal(ring.recoveries.at(-1).ranges.length, listed.length);
    await page.waitForSelector("#recover-box[hidden]", { state: "attached", timeout: 30_000 });
  }));
