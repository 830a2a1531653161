/** A test environment: virtual clock, seeded randomness, no peers, a log kept in memory. */
import type { Env, Transport } from "../../lib/env.ts";
import { seededRandom } from "../../lib/env.ts";
import { createLogger } from "../../lib/log.ts";
import { VirtualClock } from "../../lib/sim/clock.ts";

export const noPeers: Transport = {
  send: async (peer) => {
    throw new Error(`no peers in this test: tried ${peer}`);
  },
  close: async () => {},
};

export function testEnv(seed = 1): Env & { clock: VirtualClock; lines: string[] } {
  const clock = new VirtualClock();
  const lines: string[] = [];
  const log = createLogger({ format: "json", level: "debug", now: () => clock.now(), sink: (l) => lines.push(l) });
  return { clock, random: seededRandom(seed), transport: noPeers, log, lines };
}

/** `req("PUT /d/k", "body")` → a Request against a node that is never listening. */
export function req(line: string, body?: BodyInit, headers: Record<string, string> = {}): Request {
  const space = line.indexOf(" ");
  const method = line.slice(0, space);
  const path = line.slice(space + 1);
  return new Request(`http://node.test${path}`, { method, body, headers });
}
