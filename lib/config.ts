/**
 * The node's configuration: one table of options with their defaults, and a pure parser
 * from (argv, environment) to either a Config or one clear error line.
 *
 * Every option is a long flag (`--name value` or `--name=value`) and an environment
 * variable (`DHT_NAME`); a flag wins over the environment, which wins over the default.
 */
import { isWildcard, joinHostPort, parseAddress, parseInteger } from "./address.ts";
import type { LogFormat, LogLevel } from "./log.ts";

export interface Config {
  /** Port this node serves on. */
  port: number;
  /** Bind address. */
  host: string;
  /** `host:port` other nodes use to reach this one; also the node's id. */
  advertise: string;
  /** Nodes to join through, tried in order; empty starts a new cluster. */
  introducers: string[];
  replicas: number;
  writeQuorum: number;
  readQuorum: number;
  replicaTimeoutMs: number;
  protocolPeriodMs: number;
  pingTimeoutMs: number;
  indirectProbes: number;
  suspicionMult: number;
  suspicionMaxMult: number;
  retransmitMult: number;
  /** Time between gossip rounds of their own while news of a suspect, dead or left member waits (membership/broadcast.ts); 0: none. */
  gossipIntervalMs: number;
  /** Members each gossip round pings. */
  gossipNodes: number;
  pushPullIntervalMs: number;
  /** How long a member dead or left stays listed; its incarnation is kept longer, so stale news cannot revive it (membership/member.ts). */
  reapAfterMs: number;
  vnodes: number;
  maxValueBytes: number;
  tombstoneGraceMs: number;
  /** How far behind the writer's clock a node's may run: values with a time to live stop being served this much before their expiry. */
  expirySkewMs: number;
  syncIntervalMs: number;
  syncBytesPerSec: number;
  leaveTimeoutMs: number;
  /** How long a member SWIM declared dead keeps its ranges before the majority removes it. */
  removalDelayMs: number;
  /** Client requests worked on at once; past it a client request gets 503 with Retry-After (http/admission.ts). */
  maxClientRequests: number;
  log: LogFormat;
  logLevel: LogLevel;
  /** Carried by every node-to-node message: nodes of different names never talk (peer/envelope.ts). */
  clusterName: string;
  /** Where the cluster keys are ("" for none; mod.ts reads it, and again on SIGHUP). */
  clusterKeyFile: string;
  /** PEM files for serving HTTPS ("" for plain HTTP); mod.ts reads them. Peers are then reached over TLS too. */
  tlsCert: string;
  tlsKey: string;
  /** PEM file of the CA a peer's certificate must chain to ("" for the runtime's own roots). */
  tlsCa: string;
}

export type ParseResult =
  | { kind: "config"; config: Config }
  | { kind: "help" }
  | { kind: "version" }
  | { kind: "error"; message: string };

type Key = Exclude<keyof Config, "port" | "advertise" | "introducers">;

interface IntOption {
  key: Key;
  type: "int";
  min: number;
  max: number;
  default: number;
  help: string;
}
interface ChoiceOption {
  key: Key;
  type: "choice";
  choices: readonly string[];
  default: string;
  help: string;
}
interface StringOption {
  key: Key | "advertise";
  type: "string";
  default: string;
  help: string;
}
type Option = (IntOption | ChoiceOption | StringOption) & { flag: string; env: string; placeholder: string };

const MAX_INT = 2 ** 31 - 1;
const opt = <T extends IntOption | ChoiceOption | StringOption>(flag: string, placeholder: string, o: T) =>
  ({ ...o, flag, placeholder, env: "DHT_" + flag.toUpperCase().replace(/-/g, "_") }) as Option;

/** Every option, in the order `--help` lists them. */
export const options: readonly Option[] = [
  opt("host", "ADDR", { key: "host", type: "string", default: "127.0.0.1", help: "address to bind" }),
  opt("cluster-key-file", "PATH", { key: "clusterKeyFile", type: "string", default: "", help: "file of cluster keys (base64, 16 or 32 bytes, comma-separated; the first seals): every node-to-node message sealed with AES-GCM; re-read on SIGHUP; wins over DHT_CLUSTER_KEY" }),
  opt("cluster-name", "NAME", { key: "clusterName", type: "string", default: "dht", help: "every node-to-node message carries it; nodes of another name are refused (1-64 of A-Z a-z 0-9 . _ -)" }),
  opt("tls-cert", "PATH", { key: "tlsCert", type: "string", default: "", help: "certificate chain (PEM): the API, the dashboard and peer traffic over HTTPS; every node of a cluster must set it" }),
  opt("tls-key", "PATH", { key: "tlsKey", type: "string", default: "", help: "private key (PEM) of --tls-cert" }),
  opt("tls-ca", "PATH", { key: "tlsCa", type: "string", default: "", help: "CA (PEM) that peers' certificates must chain to (default: the runtime's trusted roots)" }),
  opt("advertise", "HOST:PORT", {
    key: "advertise", type: "string", default: "",
    help: "address other nodes use to reach this one, and its id (default: host:port)",
  }),
  opt("replicas", "N", { key: "replicas", type: "int", min: 1, max: 64, default: 3, help: "copies kept of each key" }),
  opt("write-quorum", "W", { key: "writeQuorum", type: "int", min: 1, max: 64, default: 2, help: "replicas that must store a write before it succeeds" }),
  opt("read-quorum", "R", { key: "readQuorum", type: "int", min: 1, max: 64, default: 2, help: "replicas that must answer a read" }),
  opt("replica-timeout-ms", "MS", { key: "replicaTimeoutMs", type: "int", min: 1, max: 600_000, default: 300, help: "how long a coordinator waits for one replica before counting it missing" }),
  opt("protocol-period-ms", "MS", { key: "protocolPeriodMs", type: "int", min: 10, max: 600_000, default: 1000, help: "SWIM: time between probes of one member" }),
  opt("ping-timeout-ms", "MS", { key: "pingTimeoutMs", type: "int", min: 1, max: 600_000, default: 500, help: "SWIM: wait for a direct ack before probing indirectly" }),
  opt("indirect-probes", "K", { key: "indirectProbes", type: "int", min: 0, max: 16, default: 3, help: "SWIM: members asked to probe on our behalf (k)" }),
  opt("suspicion-mult", "N", { key: "suspicionMult", type: "int", min: 1, max: 100, default: 4, help: "SWIM: minimum suspicion timeout = mult x log10(members+1) x period" }),
  opt("suspicion-max-mult", "N", { key: "suspicionMaxMult", type: "int", min: 1, max: 100, default: 6, help: "SWIM: maximum suspicion timeout = this x the minimum" }),
  opt("retransmit-mult", "N", { key: "retransmitMult", type: "int", min: 1, max: 100, default: 4, help: "SWIM: each update is sent mult x ceil(log10(members+1)) times" }),
  opt("gossip-interval-ms", "MS", { key: "gossipIntervalMs", type: "int", min: 0, max: 600_000, default: 200, help: "SWIM: time between gossip rounds while news of a suspect, dead or left member waits (0: piggyback on probes only)" }),
  opt("gossip-nodes", "N", { key: "gossipNodes", type: "int", min: 1, max: 64, default: 3, help: "SWIM: members each gossip round pings" }),
  opt("push-pull-interval-ms", "MS", { key: "pushPullIntervalMs", type: "int", min: 0, max: MAX_INT, default: 30_000, help: "SWIM: full state exchange with a random member (0: never)" }),
  opt("reap-after-ms", "MS", { key: "reapAfterMs", type: "int", min: 0, max: MAX_INT, default: 3_600_000, help: "SWIM: how long a member dead or left stays in the member list and in full state exchanges" }),
  opt("vnodes", "V", { key: "vnodes", type: "int", min: 1, max: 4096, default: 128, help: "virtual nodes per member on the ring" }),
  opt("max-value-bytes", "BYTES", { key: "maxValueBytes", type: "int", min: 0, max: 512 * 1024 * 1024, default: 1024 * 1024, help: "largest value accepted" }),
  opt("tombstone-grace-ms", "MS", { key: "tombstoneGraceMs", type: "int", min: 0, max: MAX_INT, default: 3_600_000, help: "how long a delete's tombstone is kept before it is purged" }),
  opt("expiry-skew-ms", "MS", { key: "expirySkewMs", type: "int", min: 0, max: 3_600_000, default: 1_000, help: "how far behind another node's this node's clock may run: a value with a ttl stops being served this long before its expiry" }),
  opt("sync-interval-ms", "MS", { key: "syncIntervalMs", type: "int", min: 100, max: MAX_INT, default: 10_000, help: "time between anti-entropy rounds (a ring change starts one at once)" }),
  opt("sync-bytes-per-sec", "BYTES", { key: "syncBytesPerSec", type: "int", min: 1024, max: MAX_INT, default: 64 * 1024 * 1024, help: "most bytes of entries per second this node pushes while rebalancing" }),
  opt("leave-timeout-ms", "MS", { key: "leaveTimeoutMs", type: "int", min: 0, max: MAX_INT, default: 30_000, help: "on SIGINT/SIGTERM, longest wait for new owners to confirm this node's data" }),
  opt("removal-delay-ms", "MS", { key: "removalDelayMs", type: "int", min: 0, max: MAX_INT, default: 2_000, help: "how long after SWIM declares a member dead the majority removes it from the ring" }),
  opt("max-client-requests", "N", { key: "maxClientRequests", type: "int", min: 1, max: 1_000_000, default: 1024, help: "client requests worked on at once; past it a client request is answered 503 with Retry-After (node-to-node messages are never refused for it)" }),
  opt("log", "FORMAT", { key: "log", type: "choice", choices: ["text", "json"], default: "text", help: "log format: one line per event" }),
  opt("log-level", "LEVEL", { key: "logLevel", type: "choice", choices: ["debug", "info", "warn", "error"], default: "info", help: "least severe level logged" }),
];

export const PORT_ENV = "DHT_PORT";
const CLUSTER_NAME = /^[A-Za-z0-9._-]{1,64}$/;
export const JOIN_ENV = "DHT_JOIN";

export function usage(command = "mod.ts"): string {
  const width = Math.max(...options.map((o) => o.flag.length + o.placeholder.length)) + 4;
  const lines = options.map((o) => {
    const left = `--${o.flag} ${o.placeholder}`.padEnd(width);
    const dflt = o.type === "choice" ? `${o.choices.join("|")}, default ${o.default}` : o.default === "" ? "" : `default ${o.default}`;
    return `  ${left} ${o.help}${dflt ? ` (${dflt})` : ""} [${o.env}]`;
  });
  return [
    `usage: ${command} <port> [introducer] [options]`,
    "",
    "  <port>        port to serve on, 1-65535 [DHT_PORT]",
    "  [introducer]  node to join through: PORT (on 127.0.0.1), HOST:PORT, or a comma-separated",
    "                list tried in order; without it the node starts a new cluster [DHT_JOIN]",
    "",
    "options (each also read from the environment variable in brackets):",
    ...lines,
    `  ${"--help".padEnd(width)} print this and exit`,
    `  ${"--version".padEnd(width)} print the version and exit`,
  ].join("\n");
}

/** Flags by name, and the positional arguments; or what is wrong with the line. */
function splitArgs(argv: readonly string[]): { flags: Map<string, string>; positional: string[] } | string {
  const flags = new Map<string, string>();
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith("-") || /^-\d/.test(arg)) {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const name = arg.slice(arg.startsWith("--") ? 2 : 1, eq === -1 ? undefined : eq);
    if (!options.some((o) => o.flag === name)) return `unknown option '${arg}' (see --help)`;
    let value: string | undefined = eq === -1 ? undefined : arg.slice(eq + 1);
    if (value === undefined) {
      value = argv[i + 1];
      if (value === undefined) return `option --${name} needs a value`;
      i++;
    }
    flags.set(name, value);
  }
  if (positional.length > 2) return `unexpected argument '${positional[2]}' (expected <port> [introducer])`;
  return { flags, positional };
}

/** Every option's value, from its flag, else its environment variable, else its default. */
function optionValues(flags: Map<string, string>, env: Record<string, string | undefined>): Record<string, number | string> | string {
  const values: Record<string, number | string> = {};
  for (const o of options) {
    const fromFlag = flags.get(o.flag);
    const raw = fromFlag ?? env[o.env];
    const source = fromFlag !== undefined ? `--${o.flag}` : o.env;
    if (raw === undefined) {
      values[o.key] = o.default;
      continue;
    }
    if (o.type === "int") {
      const n = parseInteger(raw, o.min, o.max);
      if (n === undefined) return `${source} must be an integer from ${o.min} to ${o.max}: received '${raw}'`;
      values[o.key] = n;
    } else if (o.type === "choice") {
      if (!o.choices.includes(raw)) return `${source} must be one of ${o.choices.join(", ")}: received '${raw}'`;
      values[o.key] = raw;
    } else {
      if (raw === "") return `${source} must not be empty`;
      values[o.key] = raw;
    }
  }
  return values;
}

/** Pure: the same argv and environment always give the same result. */
export function parseConfig(argv: readonly string[], env: Record<string, string | undefined>): ParseResult {
  // Asking for help is never an error, whatever else is on the line.
  if (argv.some((a) => a === "--help" || a === "-h")) return { kind: "help" };
  if (argv.includes("--version")) return { kind: "version" };
  const args = splitArgs(argv);
  if (typeof args === "string") return error(args);
  const { flags, positional } = args;

  const portText = positional[0] ?? env[PORT_ENV];
  if (portText === undefined || portText === "") return error("missing <port> (see --help)");
  const port = parseInteger(portText, 1, 65535);
  if (port === undefined) return error(`<port> must be an integer from 1 to 65535: received '${portText}'`);

  const joinText = positional[1] ?? env[JOIN_ENV] ?? "";
  const introducers: string[] = [];
  for (const part of joinText.split(",").map((s) => s.trim()).filter(Boolean)) {
    const address = parseAddress(part, "127.0.0.1");
    if (!address) return error(`[introducer] must be PORT or HOST:PORT (comma-separated for several): received '${part}'`);
    introducers.push(address);
  }

  const values = optionValues(flags, env);
  if (typeof values === "string") return error(values);
  const host = values.host as string;
  let advertise = values.advertise as string;
  if (advertise === "") {
    if (isWildcard(host)) {
      return error(`--advertise is required when --host is ${host}: other nodes need an address they can reach`);
    }
    advertise = joinHostPort(host, port);
  } else {
    const parsed = parseAddress(advertise, undefined, port);
    if (!parsed) return error(`--advertise must be HOST or HOST:PORT: received '${advertise}'`);
    advertise = parsed;
  }

  if (!CLUSTER_NAME.test(values.clusterName as string)) {
    return error(`--cluster-name must be 1 to 64 of the letters A-Z and a-z, digits, '.', '_' and '-': received '${values.clusterName}'`);
  }
  if ((values.tlsCert === "") !== (values.tlsKey === "")) return error("--tls-cert and --tls-key go together: give both or neither");
  if (values.tlsCa !== "" && values.tlsCert === "") return error("--tls-ca needs --tls-cert and --tls-key: it says whom to trust when peers are reached over TLS");
  const config = { ...values, port, advertise, introducers } as unknown as Config;
  if (config.writeQuorum > config.replicas) {
    return error(`--write-quorum (${config.writeQuorum}) cannot exceed --replicas (${config.replicas})`);
  }
  if (config.readQuorum > config.replicas) {
    return error(`--read-quorum (${config.readQuorum}) cannot exceed --replicas (${config.replicas})`);
  }
  if (config.pingTimeoutMs >= config.protocolPeriodMs) {
    return error(`--ping-timeout-ms (${config.pingTimeoutMs}) must be less than --protocol-period-ms (${config.protocolPeriodMs})`);
  }
  return { kind: "config", config };
}

/** The defaults, for tests and the simulator: `defaultConfig({ port: 8000 })`. */
export function defaultConfig(overrides: Partial<Config> & { port: number }): Config {
  const result = parseConfig([String(overrides.port)], {});
  if (result.kind !== "config") throw new Error("defaults do not parse");
  const config = { ...result.config, ...overrides };
  if (overrides.advertise === undefined) config.advertise = joinHostPort(config.host, config.port);
  return config;
}

/** R + W > N: every read quorum overlaps every write quorum. */
export function isStronglyConsistent(c: Pick<Config, "replicas" | "writeQuorum" | "readQuorum">): boolean {
  return c.readQuorum + c.writeQuorum > c.replicas;
}

function error(message: string): ParseResult {
  return { kind: "error", message };
}
