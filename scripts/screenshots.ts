/**
 * Takes the dashboard screenshots in docs/ (needs Chromium at /usr/bin/chromium):
 *
 *   npx tsx scripts/screenshots.ts [nodes=24] [runtime=bun]
 *
 * 24 real nodes holding 3,000 keys (docs/dashboard-members.png), a 25th joining with
 * stabilisation throttled so the transfers can be seen (docs/dashboard-transfer.png), and
 * a member SIGKILLed, shown dead (docs/dashboard-crash.png).
 */
import { chromium } from "playwright-core";
import { type Runtime, startNode } from "../tests/support/processes.ts";

const count = Number(process.argv[2] ?? 24);
const runtime = (process.argv[3] ?? "bun") as Runtime;
const options = ["--sync-bytes-per-sec", "8000"];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const first = await startNode(runtime, options);
const nodes = [first];
for (let i = 1; i < count; i++) nodes.push(await startNode(runtime, [String(first.port), ...options]));
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox"] });
try {
  const page = await browser.newPage({ viewport: { width: 1500, height: 1100 } });
  await page.goto(`${first.url}/`);
  await page.waitForFunction((n) => document.querySelectorAll('tr[data-member][data-state="alive"]').length === n && document.getElementById("agreement")?.dataset.agreed === "true", count, { timeout: 120_000 });
  const value = "v".repeat(1000);
  for (let i = 0; i < 3000; i += 50) {
    await Promise.all(Array.from({ length: 50 }, (_, j) => fetch(`${nodes[(i + j) % count]!.url}/d/key-${i + j}`, { method: "PUT", body: value })));
  }
  await page.fill("#key", "key-42");
  await page.click("#lookup button");
  await sleep(4_000);
  await page.screenshot({ path: "docs/dashboard-members.png", fullPage: true });

  nodes.push(await startNode(runtime, [String(first.port), ...options]));
  await page.waitForFunction(() => document.querySelectorAll("#transfers tr[data-transfer]").length > 2, undefined, { timeout: 60_000 });
  await page.screenshot({ path: "docs/dashboard-transfer.png", fullPage: true });

  const victim = nodes[5]!;
  await victim.stop("SIGKILL");
  const row = `tr[data-member="127.0.0.1:${victim.port}"]`;
  await page.waitForSelector(`${row}[data-state="dead"]`, { timeout: 60_000 });
  await page.click(row);
  await sleep(2_500);
  await page.screenshot({ path: "docs/dashboard-crash.png", fullPage: true });
  console.log("wrote docs/dashboard-members.png, docs/dashboard-transfer.png, docs/dashboard-crash.png");
} finally {
  await browser.close();
  await Promise.all(nodes.map((n) => n.stop("SIGKILL")));
}
