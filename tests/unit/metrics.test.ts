import { test } from "node:test";
import assert from "node:assert/strict";
import { Metrics } from "../../lib/metrics.ts";

test("counters render with HELP, TYPE and escaped labels", () => {
  const m = new Metrics();
  const c = m.counter("reqs_total", "Requests", ["route", "status"]);
  c.inc(["/d/:key", "200"]);
  c.inc(["/d/:key", "200"]);
  c.inc(['we"ird', "404"], 3);
  assert.equal(c.get(["/d/:key", "200"]), 2);
  assert.equal(
    m.render(),
    [
      "# HELP reqs_total Requests",
      "# TYPE reqs_total counter",
      'reqs_total{route="/d/:key",status="200"} 2',
      'reqs_total{route="we\\"ird",status="404"} 3',
      "",
    ].join("\n"),
  );
});

test("histograms are cumulative, with +Inf, sum and count", () => {
  const m = new Metrics();
  const h = m.histogram("lat_seconds", "Latency", ["route"], [0.1, 1]);
  for (const v of [0.05, 0.5, 2]) h.observe(["x"], v);
  const text = m.render();
  assert.match(text, /lat_seconds_bucket\{route="x",le="0.1"\} 1\n/);
  assert.match(text, /lat_seconds_bucket\{route="x",le="1"\} 2\n/);
  assert.match(text, /lat_seconds_bucket\{route="x",le="\+Inf"\} 3\n/);
  assert.match(text, /lat_seconds_sum\{route="x"\} 2.55\n/);
  assert.match(text, /lat_seconds_count\{route="x"\} 3\n/);
});

test("series handles count into the same series as labelled calls; a value on a bound is inside it", () => {
  const m = new Metrics();
  const c = m.counter("answers_total", "Answers", ["status"]);
  const ok = c.labels(["200"]);
  ok.value++;
  c.inc(["200"]);
  assert.equal(c.get(["200"]), 2);
  assert.equal(c.labels(["200"]), ok, "one series per label set");
  const h = m.histogram("wait_seconds", "Wait", ["route"], [0.1, 1]);
  const x = h.labels(["x"]);
  x.observe(1);
  h.observe(["x"], 0.1);
  x.observe(7);
  const text = m.render();
  assert.match(text, /wait_seconds_bucket\{route="x",le="0.1"\} 1\n/);
  assert.match(text, /wait_seconds_bucket\{route="x",le="1"\} 2\n/);
  assert.match(text, /wait_seconds_bucket\{route="x",le="\+Inf"\} 3\n/);
  assert.match(text, /wait_seconds_count\{route="x"\} 3\n/);
});

test("gauges are read when scraped", () => {
  const m = new Metrics();
  let n = 1;
  m.gauge("keys", "Keys", () => n);
  m.gauge("members", "Members by state", () => [[{ state: "alive" }, 3]]);
  assert.match(m.render(), /\nkeys 1\n/);
  n = 7;
  assert.match(m.render(), /\nkeys 7\n/);
  assert.match(m.render(), /members\{state="alive"\} 3/);
});
