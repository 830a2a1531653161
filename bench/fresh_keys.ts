/**
 * Filling a real node with fresh keys through its API, as the memory and idle benches do:
 * wrk PUTs `key:000000000001`... with 100-byte values, in 10 s rounds (wrk cannot stop at a
 * count) until the node reports it holds as many as asked.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** Live keys on the node at `url` (asked twice if need be: the node may have closed the idle connection fetch kept). */
export async function liveKeys(url: string): Promise<number> {
  const ask = async () => (await (await fetch(`${url}/health`)).json()).liveKeys as number;
  return ask().catch(ask);
}

/** PUTs fresh keys through the node at `url` until it holds at least `keys`. */
export async function fillFresh(url: string, keys: number): Promise<void> {
  const dir = mkdtempSync("/tmp/dht-fresh-keys-");
  const script = join(dir, "put_fresh.lua");
  writeFileSync(script, `local n = 0\nlocal value = string.rep("v", 100)\ninit = function(args)\n  n = tonumber(args[1] or "0")\nend\nrequest = function()\n  n = n + 1\n  return wrk.format("PUT", string.format("/d/key:%012d", n), { ["Content-Type"] = "application/octet-stream" }, value)\nend\n`);
  try {
    for (let round = 0; (await liveKeys(url)) < keys; round++) {
      spawnSync("wrk", ["-t1", "-c32", "-d10s", "-s", script, url, "--", String(round * 100_000_000)], { encoding: "utf8" });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
