import { test } from "node:test";
import assert from "node:assert/strict";
import { parseAddress, parseNodeTarget, targetUrl } from "../../lib/address.ts";
import { type Config, defaultConfig, isStronglyConsistent, options, parseConfig, usage } from "../../lib/config.ts";

function ok(argv: string[], env: Record<string, string> = {}): Config {
  const result = parseConfig(argv, env);
  if (result.kind !== "config") assert.fail(`expected a config from ${JSON.stringify(argv)}, got ${JSON.stringify(result)}`);
  return result.config;
}

function err(argv: string[], env: Record<string, string> = {}): string {
  const result = parseConfig(argv, env);
  if (result.kind !== "error") assert.fail(`expected an error from ${JSON.stringify(argv)}, got ${result.kind}`);
  assert.ok(!result.message.includes("\n"), "one line");
  return result.message;
}

test("a bare port gives the documented defaults", () => {
  const c = ok(["8000"]);
  assert.deepEqual(c, {
    port: 8000,
    host: "127.0.0.1",
    clusterName: "dht",
    clusterKeyFile: "",
    tlsCert: "",
    tlsKey: "",
    tlsCa: "",
    advertise: "127.0.0.1:8000",
    introducers: [],
    replicas: 3,
    writeQuorum: 2,
    readQuorum: 2,
    replicaTimeoutMs: 300,
    protocolPeriodMs: 1000,
    pingTimeoutMs: 500,
    indirectProbes: 3,
    suspicionMult: 4,
    suspicionMaxMult: 6,
    retransmitMult: 4,
    gossipIntervalMs: 200,
    gossipNodes: 3,
    pushPullIntervalMs: 30000,
    reapAfterMs: 3600000,
    vnodes: 128,
    maxValueBytes: 1048576,
    tombstoneGraceMs: 3600000,
    expirySkewMs: 1000,
    syncIntervalMs: 10000,
    syncBytesPerSec: 67108864,
    leaveTimeoutMs: 30000,
    removalDelayMs: 2000,
    maxClientRequests: 1024,
    log: "text",
    logLevel: "info",
  });
  assert.ok(isStronglyConsistent(c));
});

test("introducers: a bare port, host:port, IPv6 and comma-separated lists", () => {
  const table: Array<[string, string[]]> = [
    ["8001", ["127.0.0.1:8001"]],
    ["10.0.0.7:9000", ["10.0.0.7:9000"]],
    ["node-a.local:80", ["node-a.local:80"]],
    ["[::1]:8001", ["[::1]:8001"]],
    ["8001, 8002,db1:8003", ["127.0.0.1:8001", "127.0.0.1:8002", "db1:8003"]],
  ];
  for (const [arg, want] of table) assert.deepEqual(ok(["8000", arg]).introducers, want, arg);
});

test("flags take --name value and --name=value, and win over the environment", () => {
  const c = ok(["8000", "--replicas", "5", "--write-quorum=3", "--log", "json"], { DHT_REPLICAS: "7", DHT_READ_QUORUM: "3" });
  assert.equal(c.replicas, 5);
  assert.equal(c.writeQuorum, 3);
  assert.equal(c.readQuorum, 3, "from the environment");
  assert.equal(c.log, "json");
});

test("the environment supplies the port, the introducer and every option", () => {
  const c = ok([], { DHT_PORT: "9000", DHT_JOIN: "9001", DHT_HOST: "0.0.0.0", DHT_ADVERTISE: "10.1.2.3", DHT_VNODES: "64" });
  assert.equal(c.port, 9000);
  assert.deepEqual(c.introducers, ["127.0.0.1:9001"]);
  assert.equal(c.host, "0.0.0.0");
  assert.equal(c.advertise, "10.1.2.3:9000", "a bare advertise host takes the node's port");
  assert.equal(c.vnodes, 64);
  for (const o of options) assert.match(o.env, /^DHT_[A-Z_]+$/);
});

test("help and version win over everything else", () => {
  assert.deepEqual(parseConfig(["--help"], {}), { kind: "help" });
  assert.deepEqual(parseConfig(["8000", "--bogus", "-h"], {}), { kind: "help" });
  assert.deepEqual(parseConfig(["--version"], {}), { kind: "version" });
});

test("bad command lines name the argument in one line", () => {
  const table: Array<[string[], Record<string, string>, RegExp]> = [
    [[], {}, /missing <port>/],
    [["0"], {}, /<port> must be an integer from 1 to 65535: received '0'/],
    [["65536"], {}, /<port>.*'65536'/],
    [["80x"], {}, /<port>.*'80x'/],
    [["-1"], {}, /<port>.*'-1'/],
    [["8000", "8001", "8002"], {}, /unexpected argument '8002'/],
    [["8000", "host:"], {}, /\[introducer\].*'host:'/],
    [["8000", "a b:1"], {}, /\[introducer\].*'a b:1'/],
    [["8000", "--frobnicate"], {}, /unknown option '--frobnicate'/],
    [["8000", "--replicas"], {}, /--replicas needs a value/],
    [["8000", "--replicas", "0"], {}, /--replicas must be an integer from 1 to 64: received '0'/],
    [["8000", "--replicas", "2.5"], {}, /--replicas.*'2.5'/],
    [["8000"], { DHT_REPLICAS: "many" }, /DHT_REPLICAS must be an integer.*'many'/],
    [["8000", "--log", "xml"], {}, /--log must be one of text, json: received 'xml'/],
    [["8000", "--write-quorum", "4"], {}, /--write-quorum \(4\) cannot exceed --replicas \(3\)/],
    [["8000", "--read-quorum", "4"], {}, /--read-quorum \(4\) cannot exceed --replicas \(3\)/],
    [["8000", "--ping-timeout-ms", "1000"], {}, /--ping-timeout-ms \(1000\) must be less than --protocol-period-ms \(1000\)/],
    [["8000", "--host", "0.0.0.0"], {}, /--advertise is required when --host is 0.0.0.0/],
    [["8000", "--advertise", "h:0"], {}, /--advertise must be HOST or HOST:PORT/],
    [["8000", "--host="], {}, /--host must not be empty/],
  ];
  for (const [argv, env, pattern] of table) assert.match(err(argv, env), pattern, JSON.stringify(argv));
});

test("R + W <= N is allowed, but is not strongly consistent", () => {
  const c = ok(["8000", "--write-quorum", "1", "--read-quorum", "1"]);
  assert.equal(isStronglyConsistent(c), false);
});

test("parseAddress normalises the forms an operator types", () => {
  assert.equal(parseAddress("8001", "127.0.0.1"), "127.0.0.1:8001");
  assert.equal(parseAddress("8001"), undefined, "a bare port needs a default host");
  assert.equal(parseAddress("example.org", undefined, 80), "example.org:80");
  assert.equal(parseAddress("[fe80::1]:7"), "[fe80::1]:7");
  assert.equal(parseAddress("::1:7"), undefined, "IPv6 needs brackets");
  assert.equal(parseAddress("h:99999"), undefined);
});

test("usage lists every option with its environment variable", () => {
  const text = usage();
  for (const o of options) {
    assert.ok(text.includes(`--${o.flag} `), o.flag);
    assert.ok(text.includes(`[${o.env}]`), o.env);
  }
});

test("defaultConfig gives a complete config for tests", () => {
  const c = defaultConfig({ port: 7000, replicas: 1, writeQuorum: 1, readQuorum: 1 });
  assert.equal(c.advertise, "127.0.0.1:7000");
  assert.equal(c.replicas, 1);
  assert.equal(c.maxValueBytes, 1048576);
});

test("--cluster-name: letters, digits, '.', '_' and '-', 1 to 64 of them; anything else is one clear line", () => {
  assert.equal(ok(["8000", "--cluster-name", "prod-eu_1.a"]).clusterName, "prod-eu_1.a");
  assert.equal(ok(["8000"], { DHT_CLUSTER_NAME: "staging" }).clusterName, "staging");
  for (const bad of ["", "a b", "ä", "x".repeat(65), "a/b"]) {
    const result = parseConfig(["8000", `--cluster-name=${bad}`], {});
    assert.equal(result.kind, "error", JSON.stringify(bad));
    assert.match((result as { message: string }).message, /--cluster-name/);
  }
});

test("--tls-cert and --tls-key go together, and --tls-ca only with them", () => {
  const c = ok(["8000", "--tls-cert", "c.pem", "--tls-key", "k.pem", "--tls-ca", "ca.pem"]);
  assert.deepEqual([c.tlsCert, c.tlsKey, c.tlsCa], ["c.pem", "k.pem", "ca.pem"]);
  assert.equal(ok(["8000"], { DHT_TLS_CERT: "c.pem", DHT_TLS_KEY: "k.pem" }).tlsCert, "c.pem");
  assert.match(err(["8000", "--tls-cert", "c.pem"]), /--tls-cert and --tls-key go together/);
  assert.match(err(["8000", "--tls-key", "k.pem"]), /--tls-cert and --tls-key go together/);
  assert.match(err(["8000", "--tls-ca", "ca.pem"]), /--tls-ca needs --tls-cert and --tls-key/);
  assert.match(err(["8000", "--tls-cert="]), /--tls-cert must not be empty/);
});

test("status and recover reach PORT, HOST:PORT or https://HOST:PORT", () => {
  const table: Array<[string, string | undefined, string | undefined]> = [
    ["8000", "127.0.0.1:8000", "http://127.0.0.1:8000"],
    ["db1:8000", "db1:8000", "http://db1:8000"],
    ["http://db1:8000", "db1:8000", "http://db1:8000"],
    ["https://db1:8000", "https://db1:8000", "https://db1:8000"],
    ["https://db1:8000/", "https://db1:8000", "https://db1:8000"],
    ["https://[::1]:8000", "https://[::1]:8000", "https://[::1]:8000"],
    ["https://8000", "https://127.0.0.1:8000", "https://127.0.0.1:8000"],
    ["ftp://db1:8000", undefined, undefined],
    ["https://db1:8000/path", undefined, undefined],
    ["https://", undefined, undefined],
  ];
  for (const [text, target, url] of table) {
    assert.equal(parseNodeTarget(text, "127.0.0.1"), target, text);
    if (target) assert.equal(targetUrl(target), url, text);
  }
});
