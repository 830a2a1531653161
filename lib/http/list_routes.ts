/**
 * `GET /d?prefix=P&after=K&limit=L[&values=1]`: live keys in key order, a page at a time
 * (lib/listing): `{"keys": [...], "next": key | null}`, and with `values=1` each key's
 * value in base64 (null when over 64 KiB). Keys compare as JavaScript strings (UTF-16 code
 * units), which is byte order for every key without characters past U+FFFF.
 */
import type { RouterType } from "itty-router";
import type { Page, PageQuery } from "../listing/list.ts";
import { MAX_LIST_LIMIT } from "../wire/listing.ts";
import { keyBytes } from "../store/store.ts";
import { BadRequestError, jsonResponse } from "./errors.ts";
import { MAX_KEY_BYTES } from "./kv_routes.ts";

export const DEFAULT_LIST_LIMIT = 100;

export function addListRoutes(router: RouterType, list: (query: PageQuery) => Promise<Page>): void {
  router.get("/d", async (request: Request) => {
    const url = new URL(request.url);
    if (url.pathname !== "/d") return undefined; // `/d//` and the like: the KV routes say what is wrong
    const page = await list(pageQuery(url.search));
    const body: Record<string, unknown> = { keys: page.keys, next: page.next };
    if (page.values) body.values = page.values.map((v) => (v ? base64(v) : null));
    return jsonResponse(200, body);
  });
}

/** The query string as a page to fetch; a 400 for anything malformed. */
export function pageQuery(search: string): PageQuery {
  const params = new Map<string, string>();
  for (const part of search.replace(/^\?/, "").split("&")) {
    if (part === "") continue;
    const eq = part.indexOf("=");
    const name = decode(eq < 0 ? part : part.slice(0, eq));
    if (params.has(name)) throw new BadRequestError(`${name} is given twice`);
    params.set(name, decode(eq < 0 ? "" : part.slice(eq + 1)));
  }
  const prefix = params.get("prefix") ?? "";
  const after = params.get("after");
  for (const [name, text] of [["prefix", prefix], ["after", after ?? ""]] as const) {
    if (keyBytes(text) > MAX_KEY_BYTES) throw new BadRequestError(`${name} is longer than a key (${MAX_KEY_BYTES} bytes)`);
  }
  const limitText = params.get("limit") ?? String(DEFAULT_LIST_LIMIT);
  if (!/^[1-9][0-9]{0,6}$/.test(limitText) || Number(limitText) > MAX_LIST_LIMIT) {
    throw new BadRequestError(`limit must be a whole number from 1 to ${MAX_LIST_LIMIT}: received ${JSON.stringify(limitText.slice(0, 40))}`);
  }
  const values = params.get("values");
  if (values !== undefined && values !== "0" && values !== "1") throw new BadRequestError("values must be 0 or 1");
  if (after === "") throw new BadRequestError("after is empty: leave it out to start from the first key");
  const query: PageQuery = { prefix, limit: Number(limitText), values: values === "1" };
  if (after !== undefined) query.after = after;
  return query;
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, " "));
  } catch {
    throw new BadRequestError(`not valid percent-encoded UTF-8 in the query: ${JSON.stringify(text.slice(0, 40))}`);
  }
}

function base64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}
