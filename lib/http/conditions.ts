/**
 * Conditional requests on `/d/{key}`: `If-Match: "<version>"` (or `*`, any live value) and
 * `If-None-Match: *` (no live value), read from the headers into a lib/cas Condition.
 * Anything else in those headers is a 400 before anything is read or written.
 */
import type { Condition } from "../cas/condition.ts";
import { parseVersion } from "../store/version.ts";
import { BadRequestError } from "./errors.ts";

export function conditionOf(headers: Headers): Condition | undefined {
  const ifMatch = headers.get("if-match");
  const ifNoneMatch = headers.get("if-none-match");
  if (ifMatch !== null && ifNoneMatch !== null) throw new BadRequestError("send If-Match or If-None-Match, not both");
  if (ifNoneMatch !== null) {
    if (ifNoneMatch.trim() !== "*") throw new BadRequestError(`If-None-Match must be *: received ${quote(ifNoneMatch)}`);
    return { absent: true };
  }
  if (ifMatch === null) return undefined;
  const tag = ifMatch.trim();
  if (tag === "*") return { exists: true };
  const version = tag.length > 2 && tag.startsWith('"') && tag.endsWith('"') ? parseVersion(tag.slice(1, -1)) : undefined;
  if (!version) throw new BadRequestError(`If-Match must be one version in double quotes, as x-dht-version gives it, or *: received ${quote(ifMatch)}`);
  return { match: version };
}

const quote = (text: string) => JSON.stringify(text.length > 120 ? `${text.slice(0, 120)}…` : text);
