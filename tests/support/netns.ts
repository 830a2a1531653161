/**
 * A multi-host testbed on one machine: one network namespace per host, each with its own
 * address in a /24 that exists only inside these namespaces, all on a bridge that lives in
 * a namespace of its own, plus a client namespace on the same bridge. Links are cut with
 * nftables drop rules inside the host namespaces. Nothing here is reachable from, or sends
 * to, the machine's own network namespace: the test talks to the hosts only through an
 * agent process inside the client namespace (netns_agent.ts), over its standard input and
 * output.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../", import.meta.url));

/** Why this machine cannot build the testbed (not root, no `ip` or `nft`), or undefined if it can. */
export function testbedUnavailable(): string | undefined {
  if (process.platform !== "linux") return "network namespaces need Linux";
  if (process.getuid?.() !== 0) return "building network namespaces needs root";
  for (const tool of ["ip", "nft"]) {
    try {
      execFileSync("sh", ["-c", `command -v ${tool}`], { stdio: "ignore" });
    } catch {
      return `'${tool}' is not installed (Debian: apt-get install ${tool === "ip" ? "iproute2" : "nftables"})`;
    }
  }
  try {
    execFileSync("ip", ["netns", "add", "dhtprobe"], { stdio: "ignore" });
    execFileSync("ip", ["netns", "del", "dhtprobe"], { stdio: "ignore" });
  } catch {
    return "this machine does not allow creating network namespaces";
  }
  return undefined;
}

const run = (args: string[]) => execFileSync(args[0]!, args.slice(1), { stdio: ["ignore", "ignore", "pipe"] });
const inNs = (ns: string, args: string[]) => run(["ip", "netns", "exec", ns, ...args]);

export class Testbed {
  readonly hosts: string[];
  readonly addresses: string[];
  readonly client: string;
  readonly #bridge: string;
  readonly #all: string[];

  /** `subnet`: the first three octets, e.g. "10.213.7" (the hosts are .11, .12, ...; the client .100). */
  constructor(readonly prefix: string, count: number, readonly subnet: string) {
    this.#bridge = `${prefix}br`;
    this.hosts = Array.from({ length: count }, (_, i) => `${prefix}h${i + 1}`);
    this.addresses = this.hosts.map((_, i) => `${subnet}.${11 + i}`);
    this.client = `${prefix}c`;
    this.#all = [this.#bridge, ...this.hosts, this.client];
  }

  /** Builds the namespaces, bridge, veth pairs and addresses (removing leftovers of an earlier run first). */
  build(): void {
    this.destroy();
    run(["ip", "netns", "add", this.#bridge]);
    inNs(this.#bridge, ["ip", "link", "add", "br0", "type", "bridge"]);
    inNs(this.#bridge, ["ip", "link", "set", "br0", "up"]);
    const attach = (ns: string, address: string, i: number) => {
      run(["ip", "netns", "add", ns]);
      const outside = `${this.prefix}v${i}`;
      run(["ip", "link", "add", outside, "type", "veth", "peer", "name", "eth0", "netns", ns]);
      run(["ip", "link", "set", outside, "netns", this.#bridge]);
      inNs(this.#bridge, ["ip", "link", "set", outside, "master", "br0"]);
      inNs(this.#bridge, ["ip", "link", "set", outside, "up"]);
      inNs(ns, ["ip", "addr", "add", `${address}/24`, "dev", "eth0"]);
      inNs(ns, ["ip", "link", "set", "eth0", "up"]);
      inNs(ns, ["ip", "link", "set", "lo", "up"]);
      inNs(ns, ["nft", "add", "table", "inet", "dht"]);
      inNs(ns, ["nft", "add", "chain", "inet", "dht", "in", "{ type filter hook input priority 0; }"]);
      inNs(ns, ["nft", "add", "chain", "inet", "dht", "out", "{ type filter hook output priority 0; }"]);
    };
    this.hosts.forEach((ns, i) => attach(ns, this.addresses[i]!, i));
    attach(this.client, `${this.subnet}.100`, this.hosts.length);
  }

  /** Drops every packet between a host of `a` and a host of `b` (indexes), both ways, inside their namespaces. */
  cut(a: readonly number[], b: readonly number[]): void {
    for (const [from, to] of [[a, b], [b, a]] as const) {
      for (const i of from) {
        const peers = `{ ${to.map((j) => this.addresses[j]).join(", ")} }`;
        inNs(this.hosts[i]!, ["nft", "add", "rule", "inet", "dht", "out", "ip", "daddr", peers, "drop"]);
        inNs(this.hosts[i]!, ["nft", "add", "rule", "inet", "dht", "in", "ip", "saddr", peers, "drop"]);
      }
    }
  }

  /**
   * One-way links: host `i` hears none of the other hosts (their packets to it are dropped
   * as they arrive), while what it sends still leaves. TCP needs both ways, so in effect its
   * connections to them stall too; the client namespace still reaches it.
   */
  deafen(i: number): void {
    const peers = `{ ${this.addresses.filter((_, j) => j !== i).join(", ")} }`;
    inNs(this.hosts[i]!, ["nft", "add", "rule", "inet", "dht", "in", "ip", "saddr", peers, "drop"]);
  }

  heal(): void {
    for (const ns of this.hosts) {
      inNs(ns, ["nft", "flush", "chain", "inet", "dht", "in"]);
      inNs(ns, ["nft", "flush", "chain", "inet", "dht", "out"]);
    }
  }

  /** The command prefix that runs a program inside host `i` (or the client namespace). */
  prefixFor(ns: string): string[] {
    return ["ip", "netns", "exec", ns];
  }

  /** Removes every namespace of this testbed (their veths and rules go with them). Safe to call twice. */
  destroy(): void {
    for (const ns of this.#all) {
      try {
        execFileSync("ip", ["netns", "del", ns], { stdio: "ignore" });
      } catch {
        // Not there.
      }
    }
  }
}

/** A request the agent makes from inside the client namespace, and its answer. */
export interface AgentAnswer {
  status: number;
  body: string;
}

/** The client-side agent (netns_agent.ts) in the client namespace: HTTP to the hosts, by message. */
export class Agent {
  readonly #child: ChildProcess;
  readonly #waiting = new Map<number, (a: AgentAnswer) => void>();
  #next = 0;
  #buffer = "";

  constructor(bed: Testbed) {
    this.#child = spawn(bed.prefixFor(bed.client)[0]!, [...bed.prefixFor(bed.client).slice(1), "node", "--import", "tsx", "tests/support/netns_agent.ts"], {
      cwd: root,
      stdio: ["pipe", "pipe", "inherit"],
    });
    this.#child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
      this.#buffer += chunk;
      let nl: number;
      while ((nl = this.#buffer.indexOf("\n")) >= 0) {
        const line = this.#buffer.slice(0, nl);
        this.#buffer = this.#buffer.slice(nl + 1);
        const { id, status, body } = JSON.parse(line) as { id: number } & AgentAnswer;
        this.#waiting.get(id)?.({ status, body });
        this.#waiting.delete(id);
      }
    });
  }

  /** `status` 0: no answer within `timeoutMs` (or the connection failed). */
  request(method: string, url: string, body?: string, timeoutMs = 3_000): Promise<AgentAnswer> {
    const id = this.#next++;
    return new Promise((resolve) => {
      this.#waiting.set(id, resolve);
      this.#child.stdin!.write(JSON.stringify({ id, method, url, body, timeoutMs }) + "\n");
    });
  }

  async json(url: string): Promise<unknown> {
    const a = await this.request("GET", url);
    return a.status === 200 ? JSON.parse(a.body) : undefined;
  }

  stop(): void {
    this.#child.stdin!.end();
    this.#child.kill("SIGKILL");
  }
}
