/**
 * Addresses as the command line gives them: introducers and `--advertise` (`config.ts`),
 * and `status`/`recover`'s target. Pure.
 */
import { isMemberId } from "./wire/fields.ts";

export function parseInteger(text: string, min: number, max: number): number | undefined {
  if (!/^\d+$/.test(text)) return undefined;
  const n = Number(text);
  return n >= min && n <= max ? n : undefined;
}

/**
 * `PORT` (with `defaultHost`), `HOST` (with `defaultPort`), `HOST:PORT` or `[V6]:PORT`
 * → normalised `host:port`, or undefined when malformed.
 */
export function parseAddress(text: string, defaultHost?: string, defaultPort?: number): string | undefined {
  let host: string;
  let portText: string | undefined;
  const v6 = /^\[([0-9a-fA-F:.]+)\](?::(.*))?$/.exec(text);
  if (v6) {
    host = v6[1]!;
    portText = v6[2];
  } else if (/^\d+$/.test(text) && defaultHost !== undefined) {
    host = defaultHost;
    portText = text;
  } else {
    const colon = text.lastIndexOf(":");
    host = colon === -1 ? text : text.slice(0, colon);
    portText = colon === -1 ? undefined : text.slice(colon + 1);
    if (!/^[A-Za-z0-9.-]+$/.test(host)) return undefined;
  }
  const port = portText === undefined ? defaultPort : parseInteger(portText, 1, 65535);
  if (port === undefined || host === "") return undefined;
  const address = joinHostPort(host, port);
  // The id other nodes will know this one by: refused here if they would refuse it.
  return isMemberId(address) ? address : undefined;
}

/**
 * The node `status` and `recover` ask: an address as `parseAddress` reads it, or
 * `https://` before it for a node serving TLS (`--tls-cert`); `http://` is dropped.
 */
export function parseNodeTarget(text: string, defaultHost: string): string | undefined {
  const scheme = /^(https?):\/\//.exec(text);
  const address = parseAddress(scheme ? text.slice(scheme[0].length).replace(/\/$/, "") : text, defaultHost);
  return address && scheme?.[1] === "https" ? `https://${address}` : address;
}

/** The base URL of a target `parseNodeTarget` gave. */
export const targetUrl = (target: string): string => (target.startsWith("https://") ? target : `http://${target}`);

export function joinHostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

export function isWildcard(host: string): boolean {
  return host === "0.0.0.0" || host === "::" || host === "[::]";
}
