/**
 * A node's housekeeping on timers: tombstones and expired entries past their grace period
 * are purged (and conditional writes' idle promises forgotten), and
 * hints (writes a replica missed) are replayed to replicas that are alive again.
 */
import type { Env, TimerHandle } from "./env.ts";
import type { Metrics } from "./metrics.ts";
import type { Coordinator } from "./replication/coordinator.ts";
import type { HintStore } from "./replication/hints.ts";
import type { Store } from "./store/store.ts";
import type { CasAcceptor } from "./cas/acceptor.ts";

/** How often hints for replicas that are alive are retried. */
export const HINT_SWEEP_MS = 5_000;

/** How often tombstones past their grace period are looked for. */
export function purgeIntervalMs(tombstoneGraceMs: number): number {
  return Math.min(60_000, Math.max(1_000, Math.floor(tombstoneGraceMs / 4)));
}

export interface MaintenanceOptions {
  store: Store;
  /** Conditional writes' promises, forgotten on the tombstones' schedule. */
  acceptor?: Pick<CasAcceptor, "purge">;
  hints: HintStore;
  coordinator: Coordinator;
  /** Members alive right now: the ones whose hints are worth replaying. */
  alive: () => ReadonlySet<string>;
  env: Pick<Env, "clock" | "log">;
  tombstoneGraceMs: number;
  metrics: Metrics;
}

export class Maintenance {
  readonly #o: MaintenanceOptions;
  readonly #timers: TimerHandle[] = [];
  #stopped = false;
  readonly #purged;
  readonly #expiredPurged;
  readonly #replayed;

  constructor(o: MaintenanceOptions) {
    this.#o = o;
    this.#purged = o.metrics.counter("dht_tombstones_purged_total", "Tombstones removed after their grace period");
    this.#expiredPurged = o.metrics.counter("dht_expired_purged_total", "Entries removed a grace period after their expiry (?ttl)");
    this.#replayed = o.metrics.counter("dht_hints_replayed_total", "Missed writes delivered to a replica later (hinted handoff)");
  }

  start(): void {
    const { store, hints, tombstoneGraceMs, env } = this.#o;
    this.#every(purgeIntervalMs(tombstoneGraceMs), () => {
      this.#o.acceptor?.purge(tombstoneGraceMs);
      const n = store.purgeTombstones(tombstoneGraceMs);
      if (n > 0) {
        this.#purged.inc([], n);
        env.log.debug("tombstones purged", { count: n });
      }
      const expired = store.purgeExpired(tombstoneGraceMs);
      if (expired > 0) {
        this.#expiredPurged.inc([], expired);
        env.log.debug("expired entries purged", { count: expired });
      }
    });
    // A replica that never looked gone (a few timeouts) gets its hints on the next sweep.
    this.#every(HINT_SWEEP_MS, () => {
      const alive = this.#o.alive();
      for (const peer of hints.peers()) if (alive.has(peer)) this.replay(peer);
    });
  }

  stop(): void {
    this.#stopped = true;
    for (const t of this.#timers.splice(0)) this.#o.env.clock.clearTimeout(t);
  }

  /** Membership news: a replica that comes back gets its hints at once. */
  memberChanged(member: { id: string; state: string }, previous: string | undefined): void {
    if (member.state === "alive" && previous !== undefined && previous !== "alive") this.replay(member.id);
    // A member that left handed its data over; if it ever rejoins, anti-entropy fills it.
    if (member.state === "left") this.#o.hints.take(member.id);
  }

  /** Sends `peer` the writes it missed. */
  replay(peer: string): void {
    void this.#o.coordinator.replayHints(peer).then((n) => {
      if (n === 0) return;
      this.#replayed.inc([], n);
      this.#o.env.log.info("hints replayed", { peer, count: n });
    });
  }

  #every(ms: number, task: () => void): void {
    const { clock } = this.#o.env;
    const slot = this.#timers.length;
    const run = () => {
      if (this.#stopped) return;
      task();
      this.#timers[slot] = clock.setTimeout(run, ms);
    };
    this.#timers[slot] = clock.setTimeout(run, ms);
  }
}
