/**
 * The coordinator: what the public KV routes call. Any node coordinates any key.
 *
 * A write first reads the newest version R replicas hold, then goes to the key's N replicas
 * (the local store directly when this node is one, `/_kv/put` otherwise) with a version
 * above it, and succeeds once W have stored it or hold something newer still (ABD's two
 * phases). A read asks R (the rest only if some fail):
 * the newest version among them, written back to a quorum first when they disagreed, so a
 * read can never be followed by one that returns something older (ABD). Too few answers in
 * time: a QuorumError (503) with the counts.
 */
import { type Env, sendWithTimeout } from "../env.ts";
import { ringPosition } from "../ring/hash.ts";
import type { Ring } from "../ring/ring.ts";
import type { Entry } from "../store/store.ts";
import { compareVersions, type Hlc, type Version } from "../store/version.ts";
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
import { type Consistency, firstSuccesses, isStale, newest, QuorumError, quorumSizes } from "./quorum.ts";
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

export interface CoordinatorOptions {
  self: string;
  /** Where writes a replica missed are kept for replay (hinted handoff). */
  hints: HintStore;
  ring: Ring;
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

const live = (entry: Entry | undefined) => (entry && !entry.tombstone ? entry : undefined);

export function quorumCoordinator(options: CoordinatorOptions): Coordinator {
  const { self, ring, replica, hlc, env, config, hints, batches } = options;

  const alone = [self];

  /** The key's preference list; a node alone (or not yet on its ring) is its only replica. */
  function replicasFor(key: string): string[] {
    if (ring.size <= 1) return ring.size === 1 ? [ring.vnodes()[0]!.member] : alone;
    return ring.preferenceList(ringPosition(key), config.replicas);
  }

  /** A key whose only replica is this node: no quorum to gather, no message to send. */
  const onlyHere = (peers: string[]) => peers.length === 1 && peers[0] === self;

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
    return batcher.request(peer, body, holdable).then((reply) => {
      if (reply.status !== 200) throw new Error(`${peer} answered ${reply.status}`);
      return decode(reply.body);
    });
  }

  function putTo(peer: string, key: string, entry: Entry): Promise<PutReply> {
    if (peer === self) {
      try {
        return Promise.resolve(replica.put(key, entry));
      } catch (err) {
        return Promise.reject(err); // a leaving node's refusal counts as one missing replica
      }
    }
    return send(peer, encodeKvRequest({ type: "put", key, entry }), decodePutReply);
  }

  /** A put that, should the replica not answer, leaves a hint to replay later. */
  function putOrHint(peer: string, key: string, entry: Entry): Promise<PutReply> {
    const put = putTo(peer, key, entry);
    put.catch(() => hints.add(peer, key, entry));
    return put;
  }

  /**
   * Another replica's entry; `have`: this node's own, which it answers "same" to if it holds
   * that version. `holdable`: a plain read's, which the batcher may hold for company.
   */
  function getFrom(peer: string, key: string, have?: Entry, holdable = false): Promise<GetReply> {
    const request = encodeKvRequest(have ? { type: "get", key, have: have.version } : { type: "get", key });
    return send(peer, request, (body) => decodeGetReply(body, have), holdable);
  }

  /**
   * A write as ABD does it: learn the newest version a read quorum holds, then store the
   * entry above it on W replicas. `floor`: a version the caller has just read from a quorum
   * (DELETE), which stands for the first phase.
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
  async function write(key: string, peers: string[], w: number, r: number, make: (version: Version) => Entry, floor?: Version): Promise<Version> {
    if (onlyHere(peers)) {
      let version = floor ? hlc.nextAbove(floor) : hlc.next();
      const reply = replica.put(key, make(version));
      if (reply.applied) return version;
      version = hlc.nextAbove(reply.current!);
      if (replica.put(key, make(version)).applied) return version;
      throw new Error(`the local store refused a version above its own for '${key}'`);
    }
    if (!floor) {
      const { successes, results } = await gather(key, peers, r);
      if (successes < r) throw new QuorumError("write", successes, r);
      floor = newest(results.map((reply) => reply?.entry))?.version;
    }
    const version = floor ? hlc.nextAbove(floor) : hlc.next();
    const entry = make(version);
    const stored = (x: PutReply) => x.applied || (x.current !== undefined && compareVersions(x.current, version) >= 0);
    const { successes } = await firstSuccesses(peers.map((p) => putOrHint(p, key, entry)), w, stored);
    if (successes < w) throw new QuorumError("write", successes, w);
    return version;
  }

  /**
   * Asks R replicas (this node first when it is one), and the other N − R only if some of
   * those fail: half the internal traffic of asking all N, at the cost of a timeout's
   * delay when a replica is down (Cassandra's choice too).
   */
  async function gather(key: string, peers: string[], r: number, askLast?: string): Promise<{ successes: number; results: Array<GetReply | undefined> }> {
    // results[i] is peers[i]'s answer (preference-list order), undefined if it gave none.
    const results: Array<GetReply | undefined> = new Array(peers.length).fill(undefined);
    let successes = 0;
    const selfAt = peers.indexOf(self);
    // The local entry is read first, so the others can answer "same" rather than send it back.
    let have: Entry | undefined;
    if (selfAt >= 0) {
      results[selfAt] = replica.get(key);
      have = results[selfAt]!.entry;
      successes = 1;
    }
    const remote: number[] = [];
    for (let i = 0; i < peers.length; i++) if (i !== selfAt && peers[i] !== askLast) remote.push(i);
    const last = askLast === undefined ? -1 : peers.indexOf(askLast);
    if (last >= 0 && last !== selfAt) remote.push(last);

    /** Asks these replicas; resolves once `needed` answered or all settled, to how many did. */
    async function ask(indexes: number[], needed: number): Promise<number> {
      if (indexes.length === 1) {
        // The usual case (R = 2, this node a replica): one request, no race to arrange.
        try {
          results[indexes[0]!] = await getFrom(peers[indexes[0]!]!, key, have);
          return 1;
        } catch {
          return 0;
        }
      }
      const got = await firstSuccesses(indexes.map((i) => getFrom(peers[i]!, key, have)), needed, () => true);
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

  /** The newest entry among R replicas, written back to W of them first if they disagreed. */
  async function read(key: string, consistency: Consistency, peers = replicasFor(key), askLast?: string): Promise<{ latest?: Entry; peers: string[]; w: number; r: number }> {
    if (onlyHere(peers)) return { latest: replica.get(key).entry, peers, w: 1, r: 1 };
    const { w, r } = quorumSizes(config, peers.length, consistency);
    const { successes, results } = await gather(key, peers, r, askLast);
    if (successes < r) throw new QuorumError("read", successes, r);
    const entries = results.map((reply) => reply?.entry);
    const latest = newest(entries);
    if (latest) {
      const current = results.filter((reply, i) => reply !== undefined && !isStale(entries[i], latest)).length;
      if (current < w) {
        const stale = peers.filter((_, i) => results[i] === undefined || isStale(entries[i], latest));
        const { successes: repaired } = await firstSuccesses(stale.map((p) => putTo(p, key, latest)), w - current, (x) => x.applied || (x.current !== undefined && compareVersions(x.current, latest.version) >= 0));
        if (current + repaired < w) throw new QuorumError("read repair", current + repaired, w);
      }
    }
    return { latest, peers, w, r };
  }

  /**
   * The usual quorum read (R = 2 with this node a replica): its own entry and the next
   * replica's, one message and no arrays or races (3-node GET on Deno: 38.4k → 39.5k
   * req/s, means of three alternating runs). When the two agree that is the answer (two
   * current copies already make the write quorum); otherwise, or if the peer fails, the
   * general read runs, asking that peer last, since a replica that just failed may be down.
   */
  function readWithOnePeer(key: string, consistency: Consistency, peers: string[], selfAt: number): Promise<Entry | undefined> {
    const own = replica.get(key).entry;
    const peer = peers[selfAt === 0 ? 1 : 0]!;
    const general = (askLast?: string) => read(key, consistency, peers, askLast).then(({ latest }) => live(latest));
    return getFrom(peer, key, own, true).then(
      (reply) => (reply.entry === own ? live(own) : general()),
      () => general(peer),
    );
  }

  return {
    async replayHints(peer) {
      let delivered = 0;
      for (const hint of hints.take(peer)) {
        try {
          await putTo(peer, hint.key, hint.entry);
          delivered++;
        } catch {
          hints.add(peer, hint.key, hint.entry);
        }
      }
      return delivered;
    },
    async put(key, value, contentType, consistency = "quorum") {
      const peers = replicasFor(key);
      const { w, r } = quorumSizes(config, peers.length, consistency);
      return write(key, peers, w, r, (version) => ({ value, contentType, version, tombstone: false }));
    },
    get(key, consistency = "quorum") {
      // A key only this node holds (a lone node) is answered without a promise: the
      // awaits would be most of such a read's cost.
      const peers = replicasFor(key);
      if (onlyHere(peers)) return live(replica.get(key).entry);
      const { w, r } = quorumSizes(config, peers.length, consistency);
      const selfAt = peers.indexOf(self);
      if (r === 2 && w <= 2 && selfAt >= 0) return readWithOnePeer(key, consistency, peers, selfAt);
      return read(key, consistency, peers).then(({ latest }) => live(latest));
    },
    async delete(key, consistency = "quorum") {
      // Found or not follows the same quorum rule as a read; the tombstone goes above it.
      const { latest, peers, w, r } = await read(key, consistency);
      if (!latest || latest.tombstone) return false;
      await write(key, peers, w, r, (version) => ({ value: EMPTY, contentType: "", version, tombstone: true }), latest.version);
      return true;
    },
  };
}
