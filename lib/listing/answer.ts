/**
 * A node's side of a listing (`/_kv/list`): the entries its store holds for one page, in
 * key order, through the same epoch gate as replica messages. Bounded by the page: the
 * store's ordered keys (store/key_order.ts) are walked from `after`, never in full.
 */
import type { Store } from "../store/store.ts";
import type { Version } from "../store/version.ts";
import type { EpochGate } from "../replication/replica.ts";
import { type ListedEntry, type ListReply, type ListRequest, MAX_INLINE_BYTES, MAX_INLINE_VALUE_BYTES } from "../wire/listing.ts";

/**
 * `accepted`: keys with a conditional write accepted here above what the store holds, and
 * its version (the acceptor's, a handful while writes are in flight): those in the page are
 * named beside the entries.
 */
export function answerList(store: Store, accepted: () => Iterable<[string, Version]>, gate: EpochGate, request: ListRequest): ListReply {
  gate(request.epoch);
  const found = store.scan(request.prefix, request.after, request.limit + 1);
  const more = found.length > request.limit;
  const last = more ? found[request.limit - 1]![0] : undefined;
  const pending: Array<[string, Version]> = [];
  for (const [key, v] of accepted()) {
    if (key.startsWith(request.prefix) && (request.after === undefined || key > request.after) && (last === undefined || key <= last)) pending.push([key, v]);
  }
  pending.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).splice(request.limit);
  let inline = 0;
  const entries = found.slice(0, request.limit).map(([key, e]): ListedEntry => {
    const listed: ListedEntry = { key, version: e.version, tombstone: e.tombstone };
    if (e.expires !== undefined) listed.expires = e.expires;
    if (request.values && !e.tombstone && e.value.byteLength <= MAX_INLINE_VALUE_BYTES && inline + e.value.byteLength <= MAX_INLINE_BYTES) {
      listed.value = e.value;
      inline += e.value.byteLength;
    }
    return listed;
  });
  return pending.length > 0 ? { entries, more, pending } : { entries, more };
}
