/** One line per event: `text` for people, `json` (JSON lines) for log pipelines. */
import type { LineSink } from "./env.ts";

export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogFormat = "text" | "json";
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(event: string, fields?: LogFields): void;
  info(event: string, fields?: LogFields): void;
  warn(event: string, fields?: LogFields): void;
  error(event: string, fields?: LogFields): void;
}

const rank: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

export interface LoggerOptions {
  format: LogFormat;
  level: LogLevel;
  now: () => number;
  sink: LineSink;
  /** Fields added to every line, such as the node's id. */
  base?: LogFields;
}

export function createLogger(options: LoggerOptions): Logger {
  const { format, level, now, sink, base = {} } = options;
  const line = format === "json" ? jsonLine : textLine;
  const at = (lvl: LogLevel) => (event: string, fields: LogFields = {}) => {
    if (rank[lvl] < rank[level]) return;
    sink(line(new Date(now()).toISOString(), lvl, event, { ...base, ...fields }));
  };
  return { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

function jsonLine(ts: string, level: LogLevel, event: string, fields: LogFields): string {
  return JSON.stringify({ ts, level, event, ...fields });
}

/** `2026-11-23T10:00:00.000Z INFO  listening id=127.0.0.1:8000 runtime=bun` */
function textLine(ts: string, level: LogLevel, event: string, fields: LogFields): string {
  const pairs = Object.entries(fields).map(([k, v]) => `${k}=${textValue(v)}`);
  return [ts, level.toUpperCase().padEnd(5), event, ...pairs].join(" ");
}

function textValue(value: unknown): string {
  const s = typeof value === "string" ? value : JSON.stringify(value) ?? String(value);
  return /^[^\s"=]+$/.test(s) ? s : JSON.stringify(s);
}
