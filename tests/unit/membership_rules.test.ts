import { test } from "node:test";
import { seededRandom } from "../../lib/env.ts";
import assert from "node:assert/strict";
import { Awareness } from "../../lib/membership/awareness.ts";
import { GossipQueue } from "../../lib/membership/gossip.ts";
import { isUrgent } from "../../lib/membership/broadcast.ts";
import { isReaped, lackedBy, type MemberState, newsForItself, refutation, supersedes, type Update, withNews, wordOf } from "../../lib/membership/member.ts";
import {
  expectedConfirmations,
  pushPullIntervalMs,
  retransmitLimit,
  suspicionMinMs,
  suspicionTimeoutMs,
} from "../../lib/membership/timing.ts";
import { MemberTable, transition } from "../../lib/membership/table.ts";
import { flapWaitMs, OwnWord } from "../../lib/membership/own_word.ts";

const u = (state: MemberState, incarnation: number, id = "m", from = "x"): Update => ({ id, state, incarnation, from });

test("lackedBy: a push-pull answers with what would change the asker's table, a death counting as a suspicion", () => {
  const ours = [
    u("alive", 2, "same"), // they hold the same
    u("alive", 1, "stranger"), // they lack it
    u("alive", 5, "newer"), // they hold incarnation 4
    u("suspect", 3, "worse"), // they hold it alive at 3
    u("dead", 3, "dead-there"), // they already suspect it at 3: a death merged there is a suspicion, no news
    u("dead", 3, "dead-here"), // they hold it alive at 3: news (merged as a suspicion)
    u("dead", 7, "ghost"), // they never heard of it: a suspicion of a stranger is news, as a full table would give
    u("alive", 0, "older"), // they hold incarnation 2: nothing for them
    u("dead", 1, "asker"), // about the asker itself: refuted there
  ];
  const theirs = [
    u("alive", 2, "same"), u("alive", 4, "newer"), u("alive", 3, "worse"), u("suspect", 3, "dead-there"),
    u("alive", 3, "dead-here"), u("alive", 2, "older"), u("alive", 1, "asker"),
  ];
  assert.deepEqual(lackedBy(ours, theirs, "asker").map((x) => x.id), ["stranger", "newer", "worse", "dead-here", "ghost", "asker"]);
  assert.deepEqual(lackedBy(theirs, theirs, "asker"), [], "equal tables: nothing to send");
});

test("supersedes: incarnation first, then alive < suspect < dead/left; the gone stay gone", () => {
  const table: Array<[Update, { state: MemberState; incarnation: number } | undefined, boolean]> = [
    [u("alive", 0), undefined, true],
    [u("suspect", 3), undefined, true],
    [u("dead", 3), undefined, false], // a stranger's death teaches nothing
    [u("left", 3), undefined, false],
    [u("alive", 1), { state: "alive", incarnation: 0 }, true],
    [u("alive", 0), { state: "alive", incarnation: 0 }, false],
    [u("alive", 0), { state: "suspect", incarnation: 0 }, false], // only a refutation (higher) clears suspicion
    [u("alive", 1), { state: "suspect", incarnation: 0 }, true],
    [u("suspect", 0), { state: "alive", incarnation: 0 }, true],
    [u("suspect", 0), { state: "alive", incarnation: 1 }, false],
    [u("suspect", 0), { state: "suspect", incarnation: 0 }, false],
    [u("dead", 0), { state: "suspect", incarnation: 0 }, true],
    [u("dead", 0), { state: "alive", incarnation: 0 }, true],
    [u("dead", 0), { state: "alive", incarnation: 1 }, false],
    [u("left", 2), { state: "alive", incarnation: 2 }, true],
    [u("alive", 5), { state: "dead", incarnation: 5 }, false], // same incarnation cannot come back
    [u("suspect", 5), { state: "dead", incarnation: 5 }, false],
    [u("alive", 6), { state: "dead", incarnation: 5 }, true], // a rejoin
    [u("alive", 6), { state: "left", incarnation: 5 }, true],
    [u("dead", 5), { state: "left", incarnation: 5 }, false],
  ];
  for (const [update, current, want] of table) {
    assert.equal(supersedes(update, current), want, `${update.state}/${update.incarnation} over ${current?.state}/${current?.incarnation}`);
  }
});

test("isReaped: only a member dead or left, and only once --reap-after-ms has passed since it went", () => {
  const table: Array<[MemberState, number, boolean]> = [
    ["alive", 10_000_000, false],
    ["suspect", 10_000_000, false],
    ["dead", 59_999, false],
    ["dead", 60_000, true],
    ["left", 60_000, true],
    ["left", 0, false],
    ["dead", -5_000, false], // a clock that went back
  ];
  for (const [state, age, want] of table) assert.equal(isReaped({ state, since: 1_000_000 }, 1_000_000 + age, 60_000), want, `${state} ${age} ms`);
});

test("own word: refutes at once while well; unwell, holds accusations, then refutes the latest once well again", () => {
  const health = { unwell: false };
  const own = new OwnWord("me", health);
  const alive = (incarnation: number) => ({ kind: "refute", alive: { id: "me", state: "alive", incarnation, from: "me" } });
  assert.deepEqual(own.hear(u("suspect", 0, "me"), 0), alive(1));
  assert.deepEqual(own.hear(u("suspect", 0, "me"), 0), { kind: "none" }, "old news");
  assert.deepEqual(own.hear(u("alive", 1, "me"), 0), { kind: "none" });
  health.unwell = true;
  assert.deepEqual(own.hear(u("suspect", 1, "me"), 0), { kind: "hold", first: true });
  assert.deepEqual(own.hear(u("dead", 1, "me"), 0), { kind: "hold", first: false });
  assert.deepEqual(own.hear(u("suspect", 0, "me"), 0), { kind: "none" }, "older than its incarnation: nothing to hold");
  assert.equal(own.held?.state, "dead");
  assert.equal(own.incarnation, 1, "holding raises nothing");
  assert.deepEqual(own.hear(u("alive", 4, "me"), 0), alive(5), "a word that it is alive above its incarnation (an older process) is refuted even when unwell");
  assert.deepEqual(own.hear(u("suspect", 5, "me"), 0), { kind: "hold", first: true }, "the refutation ended the earlier hold");
  assert.equal(own.wellAgain(1_000), undefined, "still unwell");
  health.unwell = false;
  assert.deepEqual(own.wellAgain(2_000), alive(6), "no comeback from the dead lately: at once");
  assert.equal(own.held, undefined);
  assert.equal(own.wellAgain(3_000), undefined, "nothing held");
  assert.deepEqual(own.leave(), { id: "me", state: "left", incarnation: 7, from: "me" });
  assert.deepEqual(own.hear(u("dead", 7, "me"), 4_000), { kind: "none" }, "a member that left answers nothing");
});

test("own word: a member back from the dead more than once lately waits for sound links, longer each time", () => {
  assert.deepEqual([0, 1, 2, 3, 6, 9].map(flapWaitMs), [0, 30_000, 60_000, 120_000, 600_000, 600_000]);
  const health = { unwell: false };
  const own = new OwnWord("me", health);
  const s = 1_000;
  assert.equal(own.hear(u("dead", 0, "me"), 0).kind, "refute", "sound all along: at once");
  // Its link goes and comes back: declared dead again 40 s later, well again at 50 s.
  health.unwell = true;
  assert.deepEqual(own.hear(u("dead", 1, "me"), 40 * s), { kind: "hold", first: true });
  health.unwell = false;
  assert.equal(own.wellAgain(50 * s), undefined, "one comeback lately: 30 s of sound links first");
  assert.equal(own.hear(u("dead", 1, "me"), 60 * s).kind, "hold", "news of its death does not cut the wait short");
  assert.equal(own.wellAgain(79 * s), undefined);
  assert.equal(own.wellAgain(80 * s)?.kind, "refute");
  // Again: the link fails 10 s into the wait, so the 60 s count from when it is well again.
  health.unwell = true;
  own.hear(u("dead", 2, "me"), 100 * s);
  health.unwell = false;
  own.wellAgain(110 * s);
  health.unwell = true;
  assert.equal(own.wellAgain(120 * s), undefined);
  health.unwell = false;
  assert.equal(own.wellAgain(130 * s), undefined);
  assert.equal(own.wellAgain(189 * s), undefined);
  assert.equal(own.wellAgain(190 * s)?.kind, "refute", "two comebacks in 10 minutes: 60 s");
  // Ten quiet minutes later the comebacks are forgotten, and with them the wait.
  health.unwell = true;
  own.hear(u("dead", 3, "me"), 900 * s);
  health.unwell = false;
  assert.equal(own.wellAgain(901 * s)?.kind, "refute");
});

test("refutation: anything but alive at or above our incarnation is answered one higher", () => {
  assert.equal(refutation(0, u("suspect", 0)), 1);
  assert.equal(refutation(3, u("suspect", 5)), 6);
  assert.equal(refutation(3, u("dead", 3)), 4);
  assert.equal(refutation(3, u("left", 3)), 4);
  assert.equal(refutation(3, u("suspect", 2)), undefined, "old news");
  assert.equal(refutation(3, u("alive", 3)), undefined, "true");
  // A restarted process hears that it was alive at 7: it must announce itself above that.
  assert.equal(refutation(0, u("alive", 7)), 8);
});

test("suspicion timeouts follow Lifeguard: min = mult·log10(N+1)·period, falling from max as confirmations arrive", () => {
  assert.equal(suspicionMinMs(4, 9, 1000), 4000); // log10(10) = 1
  assert.equal(suspicionMinMs(4, 24, 1000), 5592);
  assert.equal(suspicionMinMs(4, 99, 1000), 8000);
  assert.equal(suspicionMinMs(5, 999, 200), 3000);
  const min = 4000;
  const max = 24000;
  assert.equal(suspicionTimeoutMs(min, max, 2, 0), max);
  assert.equal(suspicionTimeoutMs(min, max, 2, 1), Math.floor(max - (max - min) * (Math.log(2) / Math.log(3))));
  assert.equal(suspicionTimeoutMs(min, max, 2, 2), min);
  assert.equal(suspicionTimeoutMs(min, max, 2, 9), min, "never below min");
  assert.equal(suspicionTimeoutMs(min, max, 0, 0), min, "no confirmations expected: min");
  const falling = [0, 1, 2, 3].map((c) => suspicionTimeoutMs(min, max, 3, c));
  for (let i = 1; i < falling.length; i++) assert.ok(falling[i]! < falling[i - 1]!);
});

test("expected confirmations: mult - 2, none when the cluster is too small", () => {
  assert.equal(expectedConfirmations(4, 50), 2);
  assert.equal(expectedConfirmations(4, 4), 2);
  assert.equal(expectedConfirmations(4, 3), 0);
  assert.equal(expectedConfirmations(1, 50), 0);
});

test("retransmit limit: mult · ceil(log10(N+1))", () => {
  const table: Array<[number, number, number]> = [
    [4, 1, 4], [4, 9, 4], [4, 10, 8], [4, 99, 8], [4, 100, 12], [3, 1000, 12],
  ];
  for (const [mult, n, want] of table) assert.equal(retransmitLimit(mult, n), want, `${mult}, ${n}`);
});

test("push-pull interval grows with log2 of the cluster past 32 members", () => {
  assert.equal(pushPullIntervalMs(30_000, 10), 30_000);
  assert.equal(pushPullIntervalMs(30_000, 32), 30_000);
  assert.equal(pushPullIntervalMs(30_000, 64), 60_000);
  assert.equal(pushPullIntervalMs(30_000, 1000), 180_000);
});

test("gossip queue: fewest-sent first, newest first among equals, dropped after the limit", () => {
  const q = new GossipQueue();
  q.enqueue(u("alive", 0, "a"));
  q.enqueue(u("alive", 0, "b"));
  assert.deepEqual(q.take(1, 3).map((x) => x.id), ["b"]);
  assert.deepEqual(q.take(1, 3).map((x) => x.id), ["a"]);
  assert.deepEqual(q.take(5, 3).map((x) => x.id), ["b", "a"]);
  assert.deepEqual(q.take(5, 3).map((x) => x.id), ["b", "a"]);
  assert.equal(q.size, 0, "each was sent 3 times");
  assert.deepEqual(q.take(5, 3), []);
});

test("gossip queue: a newer update about a member replaces the queued one and starts fresh", () => {
  const q = new GossipQueue();
  q.enqueue(u("suspect", 0, "a"));
  q.take(1, 10);
  q.enqueue(u("alive", 1, "a"));
  assert.equal(q.size, 1);
  assert.deepEqual(q.take(5, 10), [u("alive", 1, "a")]);
});

test("urgent news: a member suspect, dead or left, or back from one of those; not a member joining or an alive repeated", () => {
  const cases: Array<[MemberState, MemberState | undefined, boolean]> = [
    ["alive", undefined, false],
    ["alive", "alive", false],
    ["suspect", "alive", true],
    ["dead", "suspect", true],
    ["left", "alive", true],
    ["dead", undefined, true],
    ["alive", "suspect", true],
    ["alive", "dead", true],
  ];
  for (const [state, previous, urgent] of cases) assert.equal(isUrgent(u(state, 1), previous), urgent, `${previous} → ${state}`);
});

test("gossip queue counts its urgent updates until each is sent its limit, or replaced", () => {
  const q = new GossipQueue();
  q.enqueue(u("alive", 0, "a"));
  q.enqueue(u("dead", 0, "b"), true);
  q.enqueue(u("suspect", 0, "c"), true);
  assert.equal(q.urgent, 2);
  q.enqueue(u("alive", 1, "c"));
  assert.equal(q.urgent, 1, "c's news is now a plain alive");
  q.take(5, 2);
  assert.equal(q.urgent, 1);
  q.take(5, 2);
  assert.equal(q.urgent, 0, "b was sent twice");
  assert.equal(q.size, 0);
});

test("a sample of the table: as many as asked of those kept, each at most once, spread over all of them", () => {
  const table = new MemberTable();
  for (let i = 0; i < 20; i++) table.apply(u(i % 4 === 0 ? "dead" : "alive", 0, `m${i}`), 0);
  const random = seededRandom(4);
  const counts = new Map<string, number>();
  for (let round = 0; round < 3_000; round++) {
    const picked = table.sample(3, (m) => m.state === "alive", () => random.next());
    assert.equal(picked.length, 3);
    assert.equal(new Set(picked).size, 3);
    for (const id of picked) counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  assert.equal(counts.size, 15, "every alive member, no dead one");
  for (const [id, n] of counts) assert.ok(n > 450 && n < 750, `${id} picked ${n} times of an expected 600`);
  assert.deepEqual(table.sample(3, (m) => m.id === "m1", () => random.next()), ["m1"]);
});

test("gossip queue is bounded: past its size the most-sent update goes", () => {
  const q = new GossipQueue(3);
  q.enqueue(u("alive", 0, "a"));
  q.take(1, 100); // a sent once
  q.enqueue(u("alive", 0, "b"));
  q.enqueue(u("alive", 0, "c"));
  q.enqueue(u("alive", 0, "d"));
  assert.equal(q.size, 3);
  assert.deepEqual(q.take(10, 100).map((x) => x.id).sort(), ["b", "c", "d"]);
});

test("awareness: bounded score, timeouts scaled by score + 1", () => {
  const a = new Awareness(8);
  assert.equal(a.scale(500), 500);
  a.apply(3);
  assert.equal(a.scale(500), 2000);
  a.apply(100);
  assert.equal(a.score, 7);
  assert.equal(a.scale(1000), 8000);
  a.apply(-100);
  assert.equal(a.score, 0);
});

test("table transitions: a second suspecter confirms, news changes the table, old news does nothing", () => {
  const m = (state: MemberState, incarnation: number) => ({ id: "m", state, incarnation, since: 5 });
  const table: Array<[ReturnType<typeof m> | undefined, Update, string]> = [
    [undefined, u("alive", 0), "change"],
    [undefined, u("dead", 0), "none"],
    [m("alive", 1), u("suspect", 1, "m", "y"), "change"],
    [m("suspect", 1), u("suspect", 1, "m", "y"), "confirm"],
    [m("suspect", 1), u("suspect", 2), "change"],
    [m("suspect", 2), u("alive", 1), "none"],
    [m("dead", 2), u("alive", 2), "none"],
    [m("dead", 2), u("alive", 3), "change"],
  ];
  for (const [current, update, kind] of table) {
    const t = transition(current, update, 9);
    assert.equal(t.kind, kind, `${JSON.stringify(current)} + ${JSON.stringify(update)}`);
    if (t.kind === "change") {
      assert.deepEqual(t.member, { id: "m", state: update.state, incarnation: update.incarnation, since: 9 });
      assert.equal(t.previous, current?.state);
      assert.equal(t.isNew, current === undefined);
    }
  }
});

test("member table forgets the oldest gone member past its cap, never a live one", () => {
  const table = new MemberTable(2);
  table.apply(u("alive", 0, "live"), 0);
  for (const [i, id] of ["a", "b", "c"].entries()) {
    table.apply(u("alive", 0, id), i);
    table.apply(u("dead", 0, id), 10 + i);
  }
  assert.deepEqual(table.ids(() => true).sort(), ["b", "c", "live"]);
  assert.equal(table.liveCount(), 1);
});

test("member table takes in no new live member past its bound; news of known ones still applies", () => {
  const table = new MemberTable(10, 2);
  assert.equal(table.apply(u("alive", 0, "a"), 0).kind, "change");
  assert.equal(table.apply(u("suspect", 0, "b"), 1).kind, "change");
  assert.equal(table.apply(u("alive", 0, "c"), 2).kind, "full", "a third live member is not taken in");
  assert.equal(table.apply(u("suspect", 0, "c"), 2).kind, "full");
  assert.equal(table.apply(u("alive", 1, "b"), 3).kind, "change", "a known member refutes as ever");
  assert.equal(table.apply(u("dead", 0, "x"), 4).kind, "none", "a stranger's death is no news, full or not");
  assert.equal(table.liveCount(), 2);
  assert.equal(table.apply(u("dead", 1, "a"), 5).kind, "change");
  assert.equal(table.liveCount(), 1);
  assert.equal(table.apply(u("alive", 0, "c"), 6).kind, "change", "a place freed by a death is taken");
  assert.equal(table.apply(u("alive", 2, "a"), 7).kind, "change", "a known member coming back is news, even at the bound");
  assert.equal(table.liveCount(), 3);
});

test("a message to a member held suspect or dead tells it so, so that it can refute at once", () => {
  const m = (state: MemberState) => ({ id: "b:1", state, incarnation: 4, since: 0 });
  assert.equal(newsForItself(undefined, "a:1"), undefined);
  assert.equal(newsForItself(m("alive"), "a:1"), undefined);
  assert.equal(newsForItself(m("left"), "a:1"), undefined, "a member that left said so itself");
  assert.deepEqual(newsForItself(m("suspect"), "c:1"), { id: "b:1", state: "suspect", incarnation: 4, from: "c:1" });
  assert.deepEqual(newsForItself(m("dead"), "a:1"), { id: "b:1", state: "dead", incarnation: 4, from: "a:1" });
});

test("a helper's ack passes on the word of the member it reached only while it holds that member alive", () => {
  const m = (state: MemberState) => ({ id: "b:1", state, incarnation: 4, since: 0 });
  assert.equal(wordOf(undefined, "h:1"), undefined);
  assert.deepEqual(wordOf(m("alive"), "h:1"), { id: "b:1", state: "alive", incarnation: 4, from: "h:1" });
  for (const state of ["suspect", "dead", "left"] as const) assert.equal(wordOf(m(state), "h:1"), undefined, `nothing to vouch for a member held ${state}`);
});

test("news goes first among a message's updates, unless they already name that member", () => {
  const u = (id: string, state: MemberState, incarnation: number): Update => ({ id, state, incarnation, from: "a:1" });
  assert.deepEqual(withNews([u("c:1", "alive", 0)], u("b:1", "suspect", 4)), [u("b:1", "suspect", 4), u("c:1", "alive", 0)]);
  assert.deepEqual(withNews([u("b:1", "alive", 5)], u("b:1", "suspect", 4)), [u("b:1", "alive", 5)], "the queue's own word on the member stays, alone");
  assert.deepEqual(withNews([u("c:1", "alive", 0)], undefined), [u("c:1", "alive", 0)]);
});

test("gossip queue: what take picks in one pass is what sorting the whole queue would pick", () => {
  const random = seededRandom(7);
  const q = new GossipQueue(64);
  // The model: every queued update with its sends and age, sorted in full on each take.
  let model: Array<{ id: string; transmits: number; seq: number }> = [];
  let seq = 0;
  for (let step = 0; step < 5_000; step++) {
    if (random.next() < 0.6) {
      const id = `m${Math.floor(random.next() * 80)}`;
      q.enqueue(u("alive", step, id));
      model = model.filter((x) => x.id !== id);
      model.push({ id, transmits: 0, seq: seq++ });
      if (model.length > 64) {
        const worst = [...model].sort((a, b) => b.transmits - a.transmits || a.seq - b.seq)[0]!;
        model = model.filter((x) => x !== worst);
      }
    } else {
      const count = 1 + Math.floor(random.next() * 10);
      const want = [...model].sort((a, b) => a.transmits - b.transmits || b.seq - a.seq).slice(0, count);
      for (const x of want) x.transmits++;
      model = model.filter((x) => x.transmits < 4);
      assert.deepEqual(q.take(count, 4).map((x) => x.id), want.map((x) => x.id), `step ${step}`);
    }
  }
});
