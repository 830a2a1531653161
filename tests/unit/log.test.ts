import { test } from "node:test";
import assert from "node:assert/strict";
import { createLogger } from "../../lib/log.ts";

const at = Date.UTC(2026, 10, 23, 10, 0, 0);

test("json logs are one JSON object per line with time, level, event and fields", () => {
  const lines: string[] = [];
  const log = createLogger({ format: "json", level: "info", now: () => at, sink: (l) => lines.push(l), base: { node: "n1" } });
  log.info("listening", { port: 8000 });
  assert.equal(lines.length, 1);
  assert.deepEqual(JSON.parse(lines[0]!), {
    ts: "2026-11-23T10:00:00.000Z",
    level: "info",
    event: "listening",
    node: "n1",
    port: 8000,
  });
});

test("text logs put the event first and quote values with spaces", () => {
  const lines: string[] = [];
  const log = createLogger({ format: "text", level: "debug", now: () => at, sink: (l) => lines.push(l) });
  log.warn("member suspect", { id: "127.0.0.1:8001", reason: "no ack", n: 3 });
  assert.equal(lines[0], '2026-11-23T10:00:00.000Z WARN  member suspect id=127.0.0.1:8001 reason="no ack" n=3');
  assert.ok(!lines[0]!.includes("\n"));
});

test("messages below the level are dropped", () => {
  const lines: string[] = [];
  const log = createLogger({ format: "text", level: "warn", now: () => at, sink: (l) => lines.push(l) });
  log.debug("a");
  log.info("b");
  log.warn("c");
  log.error("d");
  assert.deepEqual(lines.map((l) => l.split(/\s+/)[2]), ["c", "d"]);
});

test("a field holding a newline cannot split a text line", () => {
  const lines: string[] = [];
  const log = createLogger({ format: "text", level: "info", now: () => at, sink: (l) => lines.push(l) });
  log.info("request failed", { error: "line one\nline two" });
  assert.equal(lines.length, 1);
  assert.ok(!lines[0]!.includes("\n"));
});
