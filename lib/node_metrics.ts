/** Gauges over a node's data and ring, the observers of its replica batches and conditional writes, and refused messages. */
import { latencyBuckets, type Metrics } from "./metrics.ts";
import { BATCH_SIZE_BUCKETS } from "./replication/batcher.ts";
import type { HintStore } from "./replication/hints.ts";
import type { BatchObserver } from "./replication/replica_client.ts";
import type { CasObserver } from "./cas/propose.ts";
import type { Store } from "./store/store.ts";
import type { Topology } from "./topology/topology.ts";
import type { Logger } from "./log.ts";
import type { Refusals } from "./peer/envelope.ts";

export function nodeGauges(metrics: Metrics, { store, topology, hints }: { store: Store; topology: Topology; hints: HintStore }): void {
  metrics.gauge("dht_keys", "Keys holding a value on this replica", () => store.stats().liveKeys);
  metrics.gauge("dht_tombstones", "Tombstones held on this replica", () => store.stats().tombstones);
  metrics.gauge("dht_stored_bytes", "Bytes of keys and values held on this replica", () => store.stats().bytes);
  metrics.gauge("dht_store_slab_bytes", "Bytes of the slabs keys and values live in, dead records not yet compacted included", () => store.slabs().bytes);
  metrics.gauge("dht_ring_members", "Members on this node's ring", () => topology.layout.current.size);
  metrics.gauge("dht_ring_epoch", "The latest ring epoch this node knows", () => topology.epoch);
  metrics.gauge("dht_hints", "Missed writes waiting for their replica", () => hints.size);
  metrics.gauge("dht_hints_bytes", "Bytes of missed writes waiting for their replica", () => hints.bytes);
  metrics.gauge("dht_hints_dropped", "Hints dropped because the hint store was full", () => hints.dropped);
}

/**
 * What the replication path looks like from here: how full batches are (the lever on
 * per-frame cost), how long a peer takes to answer one, and how many reads shared a message.
 */
export function replicationObservers(metrics: Metrics): BatchObserver {
  const messages = metrics.histogram("dht_replica_batch_messages", "Replica messages per batch sent to a peer", [], BATCH_SIZE_BUCKETS).labels([]);
  const seconds = metrics.histogram("dht_replica_batch_seconds", "Round trip of a batch of replica messages to a peer", [], latencyBuckets).labels([]);
  const shared = metrics.counter("dht_replica_reads_shared_total", "Quorum reads answered by the same read of another client, still waiting for its batch, instead of a message of their own").labels([]);
  return { sent: (n) => messages.observe(n), answered: (s) => seconds.observe(s), shared: () => shared.value++ };
}

/** Conditional writes (lib/cas): attempts, wins, failed conditions (412) and rounds lost to contention. */
export function casObserver(metrics: Metrics): CasObserver {
  const attempts = metrics.counter("dht_cas_attempts_total", "Conditional writes this node coordinated");
  const wins = metrics.counter("dht_cas_wins_total", "Conditional writes that took effect");
  const failed = metrics.counter("dht_cas_precondition_failed_total", "Conditional writes answered 412: the condition did not hold");
  const retries = metrics.counter("dht_cas_ballot_retries_total", "Rounds of conditional writes lost to another proposer or a concurrent write, then tried again");
  const finishing = metrics.counter("dht_cas_finishing_total", "Reads and ring transitions that met a conditional write accepted above every stored version and ran Paxos to settle it");
  const short = metrics.counter("dht_cas_commits_short_total", "Conditional writes whose commit, sent after the answer, fell short of W (reads and transitions finish them)");
  return { attempted: () => attempts.inc(), won: () => wins.inc(), preconditionFailed: () => failed.inc(), retried: () => retries.inc(), finishing: () => finishing.inc(), commitShort: () => short.inc() };
}

/** Messages refused for another cluster's name or for not opening under the keyring: counted, and logged once per name or reason (a bounded few). */
export function peerRefusals(log: Logger, metrics: Metrics, ours: string): Refusals {
  const refused = metrics.counter("dht_peer_refused_total", "Node-to-node messages refused, by reason", ["reason"]);
  const logged = new Set<string>();
  const once = (what: string, line: () => void) => {
    if (logged.has(what) || logged.size >= 32) return;
    logged.add(what);
    line();
  };
  return {
    foreign(theirs, path) {
      refused.inc(["cluster-name"]);
      once(`name:${theirs}`, () => log.warn("refused a message from another cluster", { ours, theirs, path, fix: "check --cluster-name and the introducer of the node sending it" }));
    },
    unopened(err, path) {
      refused.inc(["key"]);
      once(`key:${err.message}`, () => log.warn("refused a message that does not open under the cluster key", { path, why: err.message }));
    },
  };
}
