/**
 * A small Prometheus registry: counters and histograms that cost a map lookup on the hot
 * path (or nothing, through a series handle kept by the caller), and gauges read only when
 * scraped. Rendered in the text exposition format 0.0.4.
 */

type Labels = Record<string, string>;

interface Series<T> {
  labels: Labels;
  value: T;
}

interface Family {
  name: string;
  help: string;
  type: "counter" | "gauge" | "histogram";
  render(lines: string[]): void;
}

export class Counter {
  readonly #series = new Map<string, Series<number>>();
  constructor(readonly name: string, readonly labelNames: readonly string[]) {}

  /** `values` in the order of `labelNames`. */
  inc(values: readonly string[] = [], by = 1): void {
    this.labels(values).value += by;
  }

  /** The series for these label values, created at zero: keep it to count without a lookup. */
  labels(values: readonly string[]): CounterSeries {
    const key = values.join("\u0000");
    let series = this.#series.get(key);
    if (!series) this.#series.set(key, (series = { labels: zip(this.labelNames, values), value: 0 }));
    return series;
  }

  get(values: readonly string[] = []): number {
    return this.#series.get(values.join("\u0000"))?.value ?? 0;
  }

  render(lines: string[]): void {
    for (const s of this.#series.values()) lines.push(`${this.name}${labelText(s.labels)} ${s.value}`);
  }
}

/** One counter series: add to `value`. */
export type CounterSeries = Series<number>;

/** One histogram series: its observations per bucket, kept by a caller that observes it often. */
export class HistogramSeries {
  /** Observations per bucket, not cumulative (cumulated when rendered); the last is +Inf's. */
  readonly counts: number[];
  sum = 0;
  count = 0;

  constructor(private readonly bounds: readonly number[]) {
    this.counts = new Array(bounds.length + 1).fill(0);
  }

  observe(v: number): void {
    let i = 0;
    while (i < this.bounds.length && v > this.bounds[i]!) i++;
    this.counts[i]!++;
    this.sum += v;
    this.count++;
  }
}

export class Histogram {
  readonly #series = new Map<string, Series<HistogramSeries>>();
  constructor(readonly name: string, readonly labelNames: readonly string[], readonly bounds: readonly number[]) {}

  observe(values: readonly string[], v: number): void {
    this.labels(values).observe(v);
  }

  /** The series for these label values: keep it to observe without a lookup. */
  labels(values: readonly string[]): HistogramSeries {
    const key = values.join("\u0000");
    let series = this.#series.get(key);
    if (!series) this.#series.set(key, (series = { labels: zip(this.labelNames, values), value: new HistogramSeries(this.bounds) }));
    return series.value;
  }

  render(lines: string[]): void {
    for (const { labels, value } of this.#series.values()) {
      let cumulative = 0;
      this.bounds.forEach((bound, i) => {
        cumulative += value.counts[i]!;
        lines.push(`${this.name}_bucket${labelText({ ...labels, le: String(bound) })} ${cumulative}`);
      });
      lines.push(`${this.name}_bucket${labelText({ ...labels, le: "+Inf" })} ${value.count}`);
      lines.push(`${this.name}_sum${labelText(labels)} ${value.sum}`);
      lines.push(`${this.name}_count${labelText(labels)} ${value.count}`);
    }
  }
}

export class Metrics {
  readonly #families: Family[] = [];

  counter(name: string, help: string, labelNames: readonly string[] = []): Counter {
    const c = new Counter(name, labelNames);
    this.#families.push({ name, help, type: "counter", render: (l) => c.render(l) });
    return c;
  }

  histogram(name: string, help: string, labelNames: readonly string[], bounds: readonly number[]): Histogram {
    const h = new Histogram(name, labelNames, bounds);
    this.#families.push({ name, help, type: "histogram", render: (l) => h.render(l) });
    return h;
  }

  /** A gauge whose value(s) are read at scrape time. */
  gauge(name: string, help: string, read: () => number | Array<[Labels, number]>): void {
    this.#families.push({
      name,
      help,
      type: "gauge",
      render(lines) {
        const v = read();
        if (typeof v === "number") lines.push(`${name} ${v}`);
        else for (const [labels, n] of v) lines.push(`${name}${labelText(labels)} ${n}`);
      },
    });
  }

  render(): string {
    const lines: string[] = [];
    for (const f of this.#families) {
      lines.push(`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} ${f.type}`);
      f.render(lines);
    }
    return lines.join("\n") + "\n";
  }
}

/** Latency buckets in seconds, from 100 µs to 5 s. */
export const latencyBuckets = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

function zip(names: readonly string[], values: readonly string[]): Labels {
  const labels: Labels = {};
  names.forEach((n, i) => (labels[n] = values[i] ?? ""));
  return labels;
}

function labelText(labels: Labels): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  return parts.length ? `{${parts.join(",")}}` : "";
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}
