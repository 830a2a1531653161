/**
 * `?ttl=SECONDS` on a write: the value expires that long after the write, by an expiry time
 * stored in the replicated entry (store/store.ts). Whole seconds, 1 to a year.
 */
import { BadRequestError } from "./errors.ts";

export const MAX_TTL_SECONDS = 365 * 24 * 3600;
/** When an entry expires, in ms since the epoch, on HEAD and on a write's answer. */
export const EXPIRES_HEADER = "x-dht-expires";

/** The time to live `query` asks for, in ms; undefined when it asks none. */
export function ttlOf(query: Record<string, string | string[] | undefined>, method: string): number | undefined {
  const ttl = query.ttl;
  if (ttl === undefined) return undefined;
  if (method === "DELETE") throw new BadRequestError("ttl applies to writes of a value, not to DELETE");
  if (typeof ttl !== "string" || !/^[1-9][0-9]{0,9}$/.test(ttl) || Number(ttl) > MAX_TTL_SECONDS) {
    throw new BadRequestError(`ttl must be a whole number of seconds from 1 to ${MAX_TTL_SECONDS}: received ${JSON.stringify(ttl)}`);
  }
  return Number(ttl) * 1000;
}
