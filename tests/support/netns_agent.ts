/**
 * Runs inside the testbed's client namespace (netns.ts): reads one JSON request a line on
 * standard input, `{id, method, url, body?, timeoutMs}`, fetches it from there, and writes
 * `{id, status, body}` a line on standard output (status 0: no answer in time). Requests
 * run concurrently. It exits when its input closes.
 */
import { createInterface } from "node:readline";

const lines = createInterface({ input: process.stdin });
lines.on("line", (line) => {
  const { id, method, url, body, timeoutMs } = JSON.parse(line) as { id: number; method: string; url: string; body?: string; timeoutMs: number };
  fetch(url, { method, body, signal: AbortSignal.timeout(timeoutMs) }).then(
    async (res) => ({ id, status: res.status, body: await res.text() }),
    () => ({ id, status: 0, body: "" }),
  ).then((answer) => process.stdout.write(JSON.stringify(answer) + "\n"));
});
lines.on("close", () => process.exit(0));
