/** The acceptor's rules (lib/cas/acceptor.ts), and its messages on the wire. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { CasAcceptor } from "../../lib/cas/acceptor.ts";
import { casQuorum, chosenAmong } from "../../lib/cas/condition.ts";
import { localReplica } from "../../lib/replication/replica.ts";
import { Store, type Entry } from "../../lib/store/store.ts";
import { type Ballot, Hlc, successor, type Version } from "../../lib/store/version.ts";
import { decodeKvRequest, decodePrepareBody, decodeAcceptBody, encodeKvRequest } from "../../lib/wire/replica.ts";
import { encodeAcceptReply, encodePrepareReply, type Pending } from "../../lib/wire/cas.ts";

const b = (wall: number, epoch = 1, node = "10.0.0.1:7000"): Ballot => ({ epoch, wall, logical: 0, node });
const plain = (wall: number): Version => ({ wall, logical: 0, node: "10.0.0.2:7000" });
const entryAt = (version: Version, value = "v"): Entry => ({ value: new TextEncoder().encode(value), contentType: "text/plain", version, tombstone: false });

function acceptor() {
  let now = 0;
  const store = new Store(() => now);
  const a = new CasAcceptor(store, () => now);
  return { a, store, tick: (ms: number) => (now += ms) };
}

test("a promise refuses lower ballots, for prepares and accepts alike; an equal one is a duplicate", () => {
  const { a } = acceptor();
  assert.deepEqual(a.prepare("k", b(5), 1), { promised: true, entry: undefined, accepted: undefined, chosen: [] });
  assert.equal(a.prepare("k", b(5), 1).promised, true);
  assert.deepEqual(a.prepare("k", b(4), 1), { promised: false, ballot: b(5), chosen: [] });
  assert.deepEqual(a.accept("k", b(4), undefined, entryAt(successor(undefined, b(4))), 1), { accepted: false, ballot: b(5) });
  // A later epoch outranks any time within an earlier one.
  assert.equal(a.prepare("k", b(1, 2), 1).promised, true);
});

test("an accepted proposal stays out of the store, is answered to the next prepare, and is gone once stored", () => {
  const { a, store } = acceptor();
  const proposal = entryAt(successor(undefined, b(5)));
  assert.deepEqual(a.accept("k", b(5), undefined, proposal, 1), { accepted: true });
  assert.equal(store.get("k"), undefined);
  const reply = a.prepare("k", b(6), 1);
  assert.ok(reply.promised && reply.accepted?.entry === proposal);
  store.apply("k", proposal);
  assert.equal(a.pending("k"), undefined);
});

test("an accept is refused once the store moved past what the proposal was conditioned on; a duplicate of a stored one is fine", () => {
  const { a, store } = acceptor();
  store.apply("k", entryAt(plain(10)));
  const over10 = entryAt(successor(plain(10), b(20)));
  store.apply("k", entryAt(plain(11)));
  assert.deepEqual(a.accept("k", b(20), plain(10), over10, 1), { accepted: false, current: plain(11) });
  // Over an absent key, with anything stored: refused.
  assert.equal(a.accept("k", b(21), undefined, entryAt(successor(undefined, b(21))), 1).accepted, false);
  const over11 = entryAt(successor(plain(11), b(22)));
  store.apply("k", over11);
  assert.deepEqual(a.accept("k", b(22), plain(11), over11, 1), { accepted: true });
  // A proposal whose version is not its base's successor under its ballot is a bad message.
  assert.throws(() => a.accept("k", b(23), plain(11), entryAt(plain(12)), 1), /follow its base/);
});

test("the replica refuses a plain write below a proposal it accepted over an absent key, and records chosen versions", () => {
  const { a, store } = acceptor();
  const replica = localReplica(store, new Hlc("10.0.0.3:7000", () => 0), () => false, () => {}, a);
  const fresh = successor(undefined, b(50));
  a.accept("k", b(50), undefined, entryAt(fresh), 1);
  assert.deepEqual(replica.put("k", entryAt(plain(40)), 1), { applied: false, current: fresh });
  assert.deepEqual(replica.put("k", entryAt(plain(60)), 1), { applied: true });
  // A stored conditional version was chosen; so was the base of any proposal accepted.
  const next = successor(plain(60), b(70));
  replica.put("k", entryAt(next), 1);
  const reply = a.prepare("k", b(80), 1);
  assert.ok(reply.promised);
  assert.deepEqual(reply.chosen, [next]);
});

test("promises are forgotten after the grace period, unless a proposal is still unstored", () => {
  const { a, tick } = acceptor();
  a.prepare("quiet", b(1), 1);
  a.accept("open", b(2), undefined, entryAt(successor(undefined, b(2))), 1);
  tick(1_000);
  assert.equal(a.purge(500), 1);
  assert.equal(a.size, 1);
});

test("prepare and accept, and their replies, round-trip through the wire", () => {
  const proposal = entryAt(successor(plain(10), b(20)));
  for (const request of [
    { type: "prepare" as const, key: "k", epoch: 3, ballot: b(20) },
    { type: "accept" as const, key: "k", epoch: 3, ballot: b(20), base: plain(10), entry: proposal },
    { type: "accept" as const, key: "k", epoch: 3, ballot: b(20), base: undefined, entry: entryAt(successor(undefined, b(20))) },
  ]) {
    assert.deepEqual(decodeKvRequest(encodeKvRequest(request)), request);
  }
  const promised = { promised: true as const, entry: entryAt(plain(10)), accepted: { ballot: b(20), base: plain(10), entry: proposal }, chosen: [proposal.version] };
  assert.deepEqual(decodePrepareBody(encodePrepareReply(promised)), promised);
  assert.deepEqual(decodePrepareBody(encodePrepareReply({ promised: false, ballot: b(9) })), { promised: false, ballot: b(9) });
  assert.deepEqual(decodeAcceptBody(encodeAcceptReply({ accepted: false, current: plain(3) })), { accepted: false, current: plain(3) });
  assert.deepEqual(decodeAcceptBody(encodeAcceptReply({ accepted: true })), { accepted: true });
});

test("casQuorum: a majority, and enough to meet every plain read, write and the ring's fence", () => {
  const table: Array<[number, number, number, number]> = [
    // n, W, R, quorum
    [3, 2, 2, 2],
    [3, 3, 1, 3],
    [3, 1, 3, 3],
    [3, 3, 3, 3],
    [5, 3, 3, 3],
    [5, 4, 2, 4],
    [1, 1, 1, 1],
    [2, 2, 1, 2],
  ];
  for (const [n, w, r, q] of table) assert.equal(casQuorum({ writeQuorum: w, readQuorum: r }, n), q, `n=${n} W=${w} R=${r}`);
});

test("a get names a proposal accepted above the store, until the store holds it or moves past it; unstored() lists such keys", () => {
  const { a, store } = acceptor();
  const replica = localReplica(store, new Hlc("10.0.0.9:7000", () => 0), () => false, () => {}, a);
  store.apply("k", entryAt(plain(1)));
  const proposal = entryAt(successor(plain(1), b(5)), "next");
  assert.deepEqual(a.accept("k", b(5), plain(1), proposal, 1), { accepted: true });
  assert.deepEqual(replica.get("k"), { entry: store.get("k"), pending: { ballot: b(5), base: plain(1), entry: proposal } });
  assert.deepEqual(a.unstored(), [["k", proposal.version]]);
  // The commit lands: a plain get again, and the key leaves the list.
  replica.put("k", proposal);
  assert.deepEqual(replica.get("k"), { entry: proposal });
  assert.deepEqual(a.unstored(), []);
  // Over an absent key, the get names the proposal alone; a plain write above overtakes it.
  const fresh = entryAt(successor(undefined, b(7)));
  assert.deepEqual(a.accept("j", b(7), undefined, fresh, 1), { accepted: true });
  assert.deepEqual(replica.get("j"), { pending: { ballot: b(7), base: undefined, entry: fresh } });
  store.apply("j", entryAt({ ...plain(9), wall: fresh.version.wall + 10 }));
  assert.equal(replica.get("j").pending, undefined);
  assert.deepEqual(a.unstored(), []);
});

test("a put above what the replica holds refuses below any proposal it accepted, where a plain put stores", () => {
  // A lagging replica accepted a proposal over a version it never stored. A plain put below
  // that proposal is stored (its writer's first phase reckoned with proposals); a put that
  // stands for both phases at this replica must not be.
  const { a, store } = acceptor();
  const replica = localReplica(store, new Hlc("10.0.0.9:7000", () => 0), () => false, () => {}, a);
  store.apply("k", entryAt(plain(1)));
  const proposal = entryAt(successor(plain(5), b(6)), "chosen, perhaps");
  assert.deepEqual(a.accept("k", b(6), plain(5), proposal, 1), { accepted: true });
  assert.deepEqual(replica.putAbove("k", entryAt(plain(3)), 1), { applied: false, current: proposal.version });
  assert.deepEqual(store.get("k")?.version, plain(1), "refused: nothing stored");
  assert.deepEqual(replica.put("k", entryAt(plain(3)), 1), { applied: true }, "the plain put is stored");
  assert.deepEqual(replica.putAbove("k", entryAt(plain(3)), 1), { applied: false, current: proposal.version }, "the very version held, still below the proposal");
  assert.deepEqual(replica.putAbove("k", entryAt(plain(6)), 1), { applied: true }, "above the proposal and the store");
  assert.deepEqual(replica.putAbove("k", entryAt(plain(6)), 1), { applied: false, current: plain(6) }, "the very version it holds");
  assert.deepEqual(replica.putAbove("k", entryAt(plain(4)), 1), { applied: false, current: plain(6) }, "below the store");
  // Over an absent key, both refuse below the proposal and both store above it.
  const fresh = entryAt(successor(undefined, b(7)));
  assert.deepEqual(a.accept("j", b(7), undefined, fresh, 1), { accepted: true });
  for (const put of [replica.put, replica.putAbove]) assert.deepEqual(put("j", entryAt(plain(3)), 1), { applied: false, current: fresh.version });
  assert.deepEqual(replica.putAbove("j", entryAt(plain(8)), 1), { applied: true });
});

test("a proposal counts as chosen only when a quorum of every write set accepted it at one ballot, in the placement's epoch", () => {
  const version = successor(plain(1), b(5));
  const at = (ballot: Ballot, v: Version = version): Pending => ({ ballot, base: plain(1), entry: entryAt(v) });
  const one = [["a", "b", "c"]];
  const cases: Array<[string, Array<[string, Pending]>, string[][], number[], boolean]> = [
    ["two of three at one ballot", [["a", at(b(5))], ["b", at(b(5))]], one, [2], true],
    ["one of three", [["a", at(b(5))]], one, [2], false],
    ["two of three at different ballots (a later one re-accepted it)", [["a", at(b(5))], ["b", at(b(6))]], one, [2], false],
    ["a ballot of an earlier epoch", [["a", at(b(5, 0))], ["b", at(b(5, 0))]], one, [2], false],
    ["a quorum of the old owners but not of the new", [["a", at(b(5))], ["b", at(b(5))], ["e", at(b(6))]], [["a", "b", "c"], ["a", "d", "e"]], [2, 2], false],
    ["a quorum of both sets", [["a", at(b(5))], ["b", at(b(5))], ["d", at(b(5))]], [["a", "b", "c"], ["a", "d", "e"]], [2, 2], true],
  ];
  for (const [name, accepted, writes, needs, chosen] of cases) {
    assert.equal(chosenAmong(1, writes, needs, new Map(accepted)) !== undefined, chosen, name);
  }
});

test("an acceptor taking a proposal over the very version it accepted stores that one first (a proposal's base is chosen)", () => {
  const { a, store } = acceptor();
  const first = entryAt(successor(undefined, b(5)), "first");
  assert.deepEqual(a.accept("k", b(5), undefined, first, 1), { accepted: true });
  assert.equal(store.get("k"), undefined);
  const second = entryAt(successor(first.version, b(6)), "second");
  assert.deepEqual(a.accept("k", b(6), first.version, second, 1), { accepted: true });
  assert.deepEqual(store.get("k"), first, "the base, accepted here and chosen, is stored");
  assert.equal(a.pending("k")?.entry, second);
});
