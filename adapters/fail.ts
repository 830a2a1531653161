/** A bad command line's one clear line on stderr, and exit code 2 (SPEC: bad input). */
import process from "node:process";

export function fail(message: string): never {
  process.stderr.write(`dht-node: ${message}\n`);
  process.exit(2);
}
