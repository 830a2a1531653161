/**
 * The coordinator: what the public KV routes call. Any node coordinates any key.
 *
 * Where a key lives comes from the agreed ring (topology/placement.ts): reads ask R of the
 * read owners, writes need W of every write set (one set when the ring is stable; old and
 * new owners while a range moves). Every replica message carries the epoch it was placed
 * in; a replica that knows a later one refuses, and the operation is placed again once
 * this node has caught up.
 *
 * A write first reads the newest version R replicas hold, then stores the entry above it
 * (ABD's two phases). A read asks R (the rest only if some fail): the newest version among
 * them, written back to W of every write set first when they disagreed, so a read can
 * never be followed by one that returns something older. Too few answers in time: a
 * QuorumError (503) with the counts.
 */
import { type Env, sendWithTimeout } from "../env.ts";
import { ringPosition } from "../ring/hash.ts";
import type { Entry } from "../store/store.ts";
import { compareVersions, type Hlc, type Version } from "../store/version.ts";
import { isGhost, type Placement } from "../topology/placement.ts";
import { StaleEpochError } from "../topology/topology.ts";
import { Batcher, DEFAULT_BATCHING, MAX_BATCH_MESSAGES } from "./batcher.ts";
import {
  BATCH_PATH,
  decodeBatchReplies,
  decodeGetReply,
  decodePutReply,
  encodeBatch,
  encodeKvRequest,
  type GetReply,
  type PutReply,
} from "./messages.ts";
import { type Consistency, firstQuorums, firstSuccesses, isStale, newest, QuorumError, quorumSizes } from "./quorum.ts";
import type { HintStore } from "./hints.ts";
import type { Replica } from "./replica.ts";

export interface Coordinator {
  /** Sends `peer` the writes it missed; those it still does not take are kept. */
  replayHints(peer: string): Promise<number>;
  /** Stores the value; resolves to the version it was stored under. */
  put(key: string, value: Uint8Array, contentType: string, consistency?: Consistency): Promise<Version>;
  /**
   * The newest live entry, or undefined when the key is absent or deleted; at once (not a
   * promise) when this node is the key's only replica.
   */
  get(key: string, consistency?: Consistency): Entry | undefined | Promise<Entry | undefined>;
  /** Writes a tombstone if a live value is there; resolves to whether one was. */
  delete(key: string, consistency?: Consistency): Promise<boolean>;
}

/** Where keys live: the coordinator's one call into the ring. */
export interface Placer {
  /** The key's placement in the latest epoch this node knows; throws when it knows none. */
  place(position: bigint): Placement;
  /** A replica said it is at `epoch`: resolves once this node has caught up, or given up. */
  catchUp(epoch: number, peer?: string): Promise<void>;
}

export interface CoordinatorOptions {
  self: string;
  /** Where writes a replica missed are kept for replay (hinted handoff). */
  hints: HintStore;
  placer: Placer;
  replica: Replica;
  hlc: Hlc;
  env: Pick<Env, "clock" | "transport">;
  config: { replicas: number; writeQuorum: number; readQuorum: number; replicaTimeoutMs: number };
  /** Told of every batch of replica messages: how many it carried, and its round trip when answered. */
  batches?: BatchObserver;
}

export interface BatchObserver {
  sent(messages: number): void;
  answered(seconds: number): void;
}

const EMPTY = new Uint8Array(0);
/** Placements an operation is tried on at most: its first, and newer ones after refusals. */
const MAX_PLACEMENTS = 4;
const utf8 = new TextDecoder();

const live = (entry: Entry | undefined) => (entry && !entry.tombstone ? entry : undefined);

export function quorumCoordinator(options: CoordinatorOptions): Coordinator {
  const { self, placer, replica, hlc, env, config, hints, batches } = options;

  /** A key whose only replica is this node: no quorum to gather, no message to send. */
  const onlyHere = (p: Placement) => p.writes.length === 1 && p.read.length === 1 && p.read[0] === self;

  /** The latest epoch a replica refused ours for, and who said so: what to catch up to. */
  let staleEpoch = 0;
  let stalePeer: string | undefined;
  const noteStale = (epoch: number, peer: string) => {
    if (epoch > staleEpoch) {
      staleEpoch = epoch;
      stalePeer = peer;
    }
  };

  const batcher = new Batcher(
    async (peer, messages) => {
      batches?.sent(messages.length);
      const started = env.clock.monotonicMs();
      const reply = await sendWithTimeout(env, peer, BATCH_PATH, encodeBatch(messages), config.replicaTimeoutMs);
      batches?.answered((env.clock.monotonicMs() - started) / 1000);
      if (reply.status !== 200) throw new Error(`${peer}/_kv/batch answered ${reply.status}`);
      return decodeBatchReplies(reply.body, MAX_BATCH_MESSAGES);
    },
    env.clock,
    { ...DEFAULT_BATCHING, timeoutMs: config.replicaTimeoutMs },
  );

  function send<T>(peer: string, body: Uint8Array, decode: (b: Uint8Array) => T, holdable = false): Promise<T> {
    if (isGhost(peer)) return Promise.reject(new Error(`${peer.slice(1)} was replaced by a new process`));
    return batcher.request(peer, body, holdable).then((reply) => {
      if (reply.status === 409) noteStale(epochIn(reply.body), peer);
      if (reply.status !== 200) throw new Error(`${peer} answered ${reply.status}`);
      return decode(reply.body);
    });
  }

  function putTo(peer: string, key: string, entry: Entry, epoch: number): Promise<PutReply> {
    if (peer === self) {
      try {
        return Promise.resolve(replica.put(key, entry, epoch));
      } catch (err) {
        if (err instanceof StaleEpochError) noteStale(err.epoch, self);
        return Promise.reject(err); // counts as one missing replica
      }
    }
    return send(peer, encodeKvRequest({ type: "put", key, entry, epoch }), decodePutReply);
  }

  /** A put that, should the replica not answer, leaves a hint to replay later. */
  function putOrHint(peer: string, key: string, entry: Entry, epoch: number): Promise<PutReply> {
    const put = putTo(peer, key, entry, epoch);
    if (!isGhost(peer)) put.catch(() => hints.add(peer, key, entry));
    return put;
  }

  /**
   * Another replica's entry; `have`: this node's own, which it answers "same" to if it holds
   * that version. `holdable`: a plain read's, which the batcher may hold for company.
   */
  function getFrom(peer: string, key: string, epoch: number, have?: Entry, holdable = false): Promise<GetReply> {
    const request = encodeKvRequest(have ? { type: "get", key, epoch, have: have.version } : { type: "get", key, epoch });
    return send(peer, request, (body) => decodeGetReply(body, have), holdable);
  }

  function localGet(key: string, epoch: number): GetReply {
    try {
      return replica.get(key, epoch);
    } catch (err) {
      if (err instanceof StaleEpochError) noteStale(err.epoch, self);
      throw err;
    }
  }

  /** W of every write set, for this consistency. */
  const writeNeeds = (p: Placement, consistency: Consistency) => p.writes.map((set) => quorumSizes(config, set.length, consistency).w);

  /**
   * Stores `entry` until W of every write set hold it (members of `current` already do).
   * A replica that refuses because it holds this very version or a newer one counts: see
   * `write`.
   */
  async function storeOn(key: string, p: Placement, entry: Entry, needs: number[], current: ReadonlySet<string>, hint: boolean, operation: string): Promise<void> {
    const peers = [...new Set(p.writes.flat())].filter((m) => !current.has(m));
    const held = (x: PutReply) => x.applied || (x.current !== undefined && compareVersions(x.current, entry.version) >= 0);
    const promises = peers.map((m) => (hint ? putOrHint(m, key, entry, p.epoch) : putTo(m, key, entry, p.epoch)));
    const result = await firstQuorums(peers, promises, p.writes, needs, held, current);
    if (!result.met) throw new QuorumError(operation, result.counted, result.needed, { epoch: p.epoch, owners: [...new Set(p.writes.flat())] });
  }

  /**
   * A write as ABD does it: learn the newest version a read quorum holds, then store the
   * entry above it on W of every write set. `floor`: a version the caller has just read
   * from a quorum (DELETE), which stands for the first phase.
   *
   * Writing above the quorum's newest is what keeps real-time order whatever the clocks
   * say: any write that finished before this one started is on W replicas, so the read
   * quorum sees it. A replica that refuses because it holds a version above this one's
   * counts as an acknowledgement: that version belongs to a write that had not finished
   * when this one started, so this one is ordered just before it and overwritten, as
   * ABD's replicas ack a stale tag. (Retrying above such a refusal, as an earlier design
   * did, could make a value that readers had already seen overwritten reappear.) One that
   * refuses because it already holds this very version (a concurrent read found it here
   * and repaired it there first) has stored it: a version names one write.
   */
  async function write(key: string, first: Placement, consistency: Consistency, make: (version: Version) => Entry, floor?: Version): Promise<Version> {
    let p = first;
    if (onlyHere(p)) {
      let version = floor ? hlc.nextAbove(floor) : hlc.next();
      const reply = replica.put(key, make(version), p.epoch);
      if (reply.applied) return version;
      version = hlc.nextAbove(reply.current!);
      if (replica.put(key, make(version), p.epoch).applied) return version;
      throw new Error(`the local store refused a version above its own for '${key}'`);
    }
    const position = ringPosition(key);
    if (!floor) {
      // Nothing is stored in this phase, so it may run again on a later epoch's placement.
      const learned = await placed(position, p, async (q) => {
        const { r } = quorumSizes(config, q.read.length, consistency);
        const { successes, results } = await gather(key, q.read, r, q.epoch);
        if (successes < r) throw new QuorumError("write", successes, r, { epoch: q.epoch, owners: q.read, answeredBy: q.read.filter((_, i) => results[i]) });
        return newest(results.map((reply) => reply?.entry))?.version;
      });
      floor = learned.value;
      p = learned.placement;
    }
    // This phase may have stored the entry on some replicas before it fell short: run again,
    // it stores the very same entry (one version, one write), never a new version of it.
    const version = floor ? hlc.nextAbove(floor) : hlc.next();
    const entry = make(version);
    await placed(position, p, (q) => storeOn(key, q, entry, writeNeeds(q, consistency), new Set(), true, "write"));
    return version;
  }

  /**
   * Asks R replicas (this node first when it is one), and the others only if some of
   * those fail: half the internal traffic of asking all N, at the cost of a timeout's
   * delay when a replica is down (Cassandra's choice too).
   */
  async function gather(key: string, peers: string[], r: number, epoch: number, askLast?: string): Promise<{ successes: number; results: Array<GetReply | undefined> }> {
    // results[i] is peers[i]'s answer (preference-list order), undefined if it gave none.
    const results: Array<GetReply | undefined> = new Array(peers.length).fill(undefined);
    let successes = 0;
    let selfAt = peers.indexOf(self);
    // The local entry is read first, so the others can answer "same" rather than send it back.
    let have: Entry | undefined;
    if (selfAt >= 0) {
      try {
        results[selfAt] = localGet(key, epoch);
        have = results[selfAt]!.entry;
        successes = 1;
      } catch {
        selfAt = -1;
      }
    }
    const remote: number[] = [];
    for (let i = 0; i < peers.length; i++) if (peers[i] !== self && peers[i] !== askLast) remote.push(i);
    const last = askLast === undefined ? -1 : peers.indexOf(askLast);
    if (last >= 0 && peers[last] !== self) remote.push(last);

    /** Asks these replicas; resolves once `needed` answered or all settled, to how many did. */
    async function ask(indexes: number[], needed: number): Promise<number> {
      if (indexes.length === 1) {
        // The usual case (R = 2, this node a replica): one request, no race to arrange.
        try {
          results[indexes[0]!] = await getFrom(peers[indexes[0]!]!, key, epoch, have);
          return 1;
        } catch {
          return 0;
        }
      }
      const got = await firstSuccesses(indexes.map((i) => getFrom(peers[i]!, key, epoch, have)), needed, () => true);
      got.results.forEach((reply, j) => {
        if (reply) results[indexes[j]!] = reply;
      });
      return got.successes;
    }

    const first = remote.slice(0, Math.max(0, r - successes));
    if (first.length > 0) successes += await ask(first, first.length);
    const rest = remote.slice(first.length);
    if (successes < r && rest.length > 0) successes += await ask(rest, r - successes);
    return { successes, results };
  }

  /** The newest entry among R read owners, written back to W of every write set first if they disagreed. */
  async function read(key: string, consistency: Consistency, p: Placement, askLast?: string): Promise<Entry | undefined> {
    if (onlyHere(p)) return replica.get(key, p.epoch).entry;
    const { r } = quorumSizes(config, p.read.length, consistency);
    const { successes, results } = await gather(key, p.read, r, p.epoch, askLast);
    if (successes < r) throw new QuorumError("read", successes, r, { epoch: p.epoch, owners: p.read, answeredBy: p.read.filter((_, i) => results[i]) });
    const entries = results.map((reply) => reply?.entry);
    const latest = newest(entries);
    if (latest) {
      const current = new Set(p.read.filter((_, i) => results[i] !== undefined && !isStale(entries[i], latest)));
      const needs = writeNeeds(p, consistency);
      const met = p.writes.every((set, i) => set.filter((m) => current.has(m)).length >= needs[i]!);
      if (!met) await storeOn(key, p, latest, needs, current, false, "read repair");
    }
    return latest;
  }

  /**
   * The usual quorum read (R = 2 with this node a replica, ring stable): its own entry and
   * the next replica's, one message and no arrays or races. When the two agree that is the
   * answer (two current copies already make the write quorum); otherwise, or if the peer
   * fails, the general read runs, asking that peer last, since a replica that just failed
   * may be down.
   */
  function readWithOnePeer(key: string, consistency: Consistency, p: Placement, selfAt: number): Promise<Entry | undefined> {
    let own: Entry | undefined;
    try {
      own = localGet(key, p.epoch).entry;
    } catch {
      return read(key, consistency, p).then(live, (err) => retryRead(err, key, consistency, p)); // this node refused its own epoch: ask the others
    }
    const peer = p.read[selfAt === 0 ? 1 : 0]!;
    const general = (askLast?: string) => read(key, consistency, p, askLast).then(live, (err) => retryRead(err, key, consistency, p));
    return getFrom(peer, key, p.epoch, own, true).then(
      (reply) => (reply.entry === own ? live(own) : general()),
      () => general(peer),
    );
  }

  /**
   * Runs `op` on placement `p`; if it fell short because replicas are at a later epoch,
   * again on the placement this node has caught up to (a transition decides three epochs
   * in quick succession, so up to MAX_PLACEMENTS times in all). `op` must be safe to run
   * again: it stores nothing, or stores what it stored before.
   */
  async function placed<T>(position: bigint, p: Placement, op: (p: Placement) => Promise<T>): Promise<{ value: T; placement: Placement }> {
    for (let attempt = 1; ; attempt++) {
      try {
        return { value: await op(p), placement: p };
      } catch (err) {
        const again = attempt < MAX_PLACEMENTS ? await replaced(err, position, p) : undefined;
        if (!again) throw err;
        p = again;
      }
    }
  }

  /** After a QuorumError with replicas at a later epoch: the newer placement, once caught up; else undefined. */
  async function replaced(err: unknown, position: bigint, p: Placement): Promise<Placement | undefined> {
    if (!(err instanceof QuorumError) || staleEpoch <= p.epoch) return undefined;
    await placer.catchUp(staleEpoch, stalePeer);
    const again = placer.place(position);
    return again.epoch > p.epoch ? again : undefined;
  }

  return {
    async replayHints(peer) {
      let delivered = 0;
      for (const hint of hints.take(peer)) {
        // A hint is only a shortcut: quorums and stabilisation carry the write anyway. One
        // for a replica that no longer owns the key is dropped, so no copy lands off its owners.
        const p = placer.place(ringPosition(hint.key));
        if (!p.writes.some((set) => set.includes(peer))) continue;
        try {
          // Sent in the epoch of now: a replica at a later one refuses, and the hint is kept.
          await putTo(peer, hint.key, hint.entry, p.epoch);
          delivered++;
        } catch {
          hints.add(peer, hint.key, hint.entry);
        }
      }
      return delivered;
    },
    async put(key, value, contentType, consistency = "quorum") {
      return write(key, placer.place(ringPosition(key)), consistency, (version) => ({ value, contentType, version, tombstone: false }));
    },
    get(key, consistency = "quorum") {
      const p = placer.place(ringPosition(key));
      // A key only this node holds (a lone node) is answered without a promise: the
      // awaits would be most of such a read's cost.
      if (onlyHere(p)) return live(replica.get(key, p.epoch).entry);
      const selfAt = p.read.indexOf(self);
      if (p.writes.length === 1 && selfAt >= 0) {
        const { w, r } = quorumSizes(config, p.read.length, consistency);
        if (r === 2 && w <= 2) return readWithOnePeer(key, consistency, p, selfAt);
      }
      return read(key, consistency, p).then(live, (err) => retryRead(err, key, consistency, p));
    },
    async delete(key, consistency = "quorum") {
      // Found or not follows the same quorum rule as a read; the tombstone goes above it.
      const position = ringPosition(key);
      return placed(position, placer.place(position), (p) => read(key, consistency, p)).then(async ({ value: latest, placement }) => {
        if (!latest || latest.tombstone) return false;
        await write(key, placement, consistency, (version) => ({ value: EMPTY, contentType: "", version, tombstone: true }), latest.version);
        return true;
      });
    },
  };

  /** A read that fell short on an epoch that is over, run again where the key lives now. */
  async function retryRead(err: unknown, key: string, consistency: Consistency, p: Placement): Promise<Entry | undefined> {
    const position = ringPosition(key);
    const again = await replaced(err, position, p);
    if (!again) throw err;
    return live((await placed(position, again, (q) => read(key, consistency, q))).value);
  }
}

/** The epoch a replica's refusal (409, JSON) names; 0 if it names none. */
function epochIn(body: Uint8Array): number {
  try {
    const epoch = JSON.parse(utf8.decode(body)).epoch;
    return Number.isSafeInteger(epoch) ? epoch : 0;
  } catch {
    return 0;
  }
}
