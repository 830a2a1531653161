/**
 * Anti-entropy summaries kept true as the store changes, so that a round walks every key
 * only when the ring changed or a key turned up that this node does not own, not because
 * some key was written (Riak's active anti-entropy keeps its hash trees the same way).
 *
 * The store tells this of every entry stored or removed (Store.listener). The summaries of
 * the last walk take the change at once: the old version out of its bucket for each other
 * owner, the new one in, both sums and the xor being reversible. A walk still running takes
 * it only if the walk is past the slot: slots are walked in order, and one not reached yet
 * is read as it stands when the walk gets there. When a walk ends, its summaries hold every
 * change made while it ran.
 */
import { halvesReader } from "../ring/hash.ts";
import type { StoreListener } from "../store/store.ts";
import type { Version } from "../store/version.ts";
import { type DigestTables, scanStore, startWalk, summarise, type Walk } from "./antientropy.ts";
import type { SyncContext } from "./context.ts";

export class LiveTables implements StoreListener {
  #tables: DigestTables | undefined;
  readonly #walks = new Set<Walk>();
  readonly #place = halvesReader();

  constructor(private readonly ctx: SyncContext) {}

  /** The summaries of the latest walk, kept true since; none before the first walk, or after `forget`. */
  get tables(): DigestTables | undefined {
    return this.#tables;
  }

  /** The ring changed, or this node began to leave: who shares each key is no longer what they say. */
  forget(): void {
    this.#tables = undefined;
  }

  /** Walks every key (antientropy.ts, `scanStore`); the walk's summaries then become `tables`. */
  async walk(notOwned: Parameters<typeof scanStore>[1], onPage?: (seen: number) => void): Promise<{ seen: number; tables: DigestTables }> {
    const walk = startWalk(this.ctx);
    this.#walks.add(walk);
    try {
      const scan = await scanStore(this.ctx, notOwned, onPage, walk);
      scan.tables.changes = this.ctx.store.changes; // what changed while it ran is in it
      this.#tables = scan.tables;
      return scan;
    } finally {
      this.#walks.delete(walk);
    }
  }

  changed(slot: number, bytes: Uint8Array, off: number, len: number, before: Version | undefined, after: Version | undefined): void {
    const tables = this.#tables;
    if (tables !== undefined) {
      if (tables.epoch !== this.ctx.topology.epoch) this.#tables = undefined;
      else {
        this.#take(tables, bytes, off, len, before, after);
        tables.changes = this.ctx.store.changes;
      }
    }
    for (const walk of this.#walks) if (slot < walk.next) this.#take(walk.tables, bytes, off, len, before, after);
  }

  #take(tables: DigestTables, bytes: Uint8Array, off: number, len: number, before: Version | undefined, after: Version | undefined): void {
    const halves = this.#place(bytes, off, len);
    const owners = this.ctx.owners(halves);
    const { self } = this.ctx;
    if (!owners.includes(self)) {
      tables.unowned++;
      return;
    }
    summarise(tables, owners, self, halves, before, after);
  }
}
