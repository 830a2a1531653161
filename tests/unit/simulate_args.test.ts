import { test } from "node:test";
import assert from "node:assert/strict";
import { parseSimulateArgs } from "../../lib/sim/simulate_args.ts";

test("simulate's command line: its own flags with their defaults, and node options passed through", () => {
  const parsed = parseSimulateArgs(["--nodes", "100", "--loss=0.01", "--crash", "3", "--protocol-period-ms", "500", "--ping-timeout-ms", "200", "--json"]);
  assert.ok("options" in parsed);
  assert.equal(parsed.json, true);
  assert.deepEqual(parsed.options, {
    nodes: 100, seed: 1, loss: 0.01, crash: 3, minDelayMs: 1, maxDelayMs: 5, joinSpreadMs: 1000, limitMs: 300_000,
    config: { protocolPeriodMs: 500, pingTimeoutMs: 200 },
  });
  assert.deepEqual(parseSimulateArgs(["--help"]), { help: true });
  const faults = parseSimulateArgs(["--nodes", "20", "--lossy", "2:0.8", "--slow=3:150", "--partition", "4:30", "--rejoin-after-s", "5"]);
  assert.ok("options" in faults);
  assert.deepEqual(faults.options.faults, { lossy: { members: 2, loss: 0.8 }, slow: { members: 3, delayMs: 150 }, partition: { members: 4, forMs: 30_000 }, rejoinAfterMs: 5_000 });
});

test("simulate's bad lines are one line naming the problem", () => {
  const table: Array<[string[], RegExp]> = [
    [[], /--nodes is required/],
    [["--nodes", "1"], /--nodes must be an integer from 2 to 10000/],
    [["--nodes", "5", "--crash", "5"], /--crash must be an integer from 0 to 4/],
    [["--nodes", "5", "--loss", "1"], /--loss must be a probability/],
    [["--nodes", "5", "--loss", "-0.1"], /--loss must be a probability/],
    [["--nodes", "5", "--loss", "0.1.2"], /--loss must be a probability/],
    [["--nodes", "5", "--min-delay-ms", "9", "--max-delay-ms", "3"], /cannot exceed --max-delay-ms/],
    [["--nodes", "5", "--seed"], /--seed needs a value/],
    [["--nodes", "5", "stray"], /unexpected argument 'stray'/],
    [["--nodes", "5", "--replicas", "0"], /--replicas must be an integer/],
    [["--nodes", "5", "--nope", "1"], /unknown option '--nope'/],
    [["--nodes", "5", "--version", "1"], /not node options here/],
    [["--nodes", "5", "--lossy", "2"], /--lossy must be K:P/],
    [["--nodes", "5", "--lossy", "2:1"], /--lossy must be K:P/],
    [["--nodes", "5", "--slow", "x:100"], /--slow must be K:MS/],
    [["--nodes", "5", "--partition", "2:0"], /--partition must be K:S/],
    [["--nodes", "5", "--crash", "1", "--lossy", "2:0.5", "--partition", "2:10"], /take 4 members, but only 3 are neither the first nor crashed/],
    [["--nodes", "5", "--rejoin-after-s", "-1"], /--rejoin-after-s must be an integer/],
  ];
  for (const [args, message] of table) {
    const parsed = parseSimulateArgs(args);
    assert.ok("error" in parsed, `${args.join(" ")}: ${JSON.stringify(parsed)}`);
    assert.match(parsed.error, message, args.join(" "));
    assert.ok(parsed.error.startsWith("simulate: ") && !parsed.error.includes("\n"));
  }
});
