/** The client's rules for one call: which node first, when to try again, and its bounds. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { attempt, type Attempt, backoff, DEFAULT_ATTEMPTS, DhtError, refused, type Retryable, tryOrder } from "../../client/attempts.ts";
import { RingView } from "../../client/ring_view.ts";

const fixed = (value: number) => () => value;

test("the order of tries: the owners from a random one on, then the other members shuffled, then the seeds, each once", () => {
  const owners = ["b:1", "c:1", "d:1"];
  const members = ["a:1", "b:1", "c:1", "d:1", "e:1"];
  assert.deepEqual(tryOrder(owners, members, ["a:1", "s:1"], fixed(0)), ["b:1", "c:1", "d:1", "a:1", "e:1", "s:1"]);
  assert.deepEqual(tryOrder(owners, members, [], fixed(0.5)).slice(0, 3), ["c:1", "d:1", "b:1"]);
  assert.deepEqual(tryOrder([], [], ["s:1"], Math.random), ["s:1"], "no ring yet: the seeds");
});

test("backoff doubles from its first wait up to its cap, with jitter of up to half", () => {
  const options = { backoffMs: 25, maxBackoffMs: 500 };
  assert.deepEqual([1, 2, 3, 6, 10].map((n) => backoff(n, options, fixed(0.999999))), [25, 50, 100, 500, 500]);
  assert.deepEqual([1, 2, 3].map((n) => backoff(n, options, fixed(0))), [13, 25, 50]);
});

test("a refused connection is told apart from one that failed after it was sent, on each runtime's wording", () => {
  assert.equal(refused(Object.assign(new TypeError("fetch failed"), { cause: { code: "ECONNREFUSED" } })), true, "Node (undici)");
  assert.equal(refused(Object.assign(new TypeError("ECONNREFUSED: Unable to connect. Is the computer able to access the url?"), { code: "ECONNREFUSED" })), true, "Bun");
  const deno = new Error("error sending request for url (http://127.0.0.1:9/x): client error (Connect): tcp connect error: Connection refused (os error 111)");
  assert.equal(refused(Object.assign(new TypeError("fetch failed"), { cause: deno })), true, "Deno");
  assert.equal(refused(Object.assign(new TypeError("fetch failed"), { cause: { code: "ECONNRESET" } })), false);
  assert.equal(refused(new DOMException("timed out", "TimeoutError")), false);
});

/** Runs `attempt` over scripted answers, one per try, on a clock that does not wait. */
async function script(answers: Array<number | Error>, kind: { write: boolean; retryable: Retryable }, options = {}) {
  const tried: string[] = [];
  let now = 0;
  const a: Attempt = {
    order: ["a:1", "b:1", "c:1"],
    ...kind,
    failed: () => {},
    send: async (node) => {
      tried.push(node);
      const answer = answers[tried.length - 1] ?? 200;
      if (answer instanceof Error) throw answer;
      return new Response(answer === 503 ? JSON.stringify({ error: "quorum not reached" }) : null, { status: answer });
    },
  };
  const clock = { now: () => now, sleep: async (ms: number) => void (now += ms), random: fixed(0.5) };
  const outcome = await attempt(a, { ...DEFAULT_ATTEMPTS, ...options }, clock).then((r) => r.status, (e: DhtError) => e);
  return { tried, outcome, elapsed: now };
}

const refusal = () => Object.assign(new TypeError("fetch failed"), { cause: { code: "ECONNREFUSED" } });
const reset = () => Object.assign(new TypeError("fetch failed"), { cause: { code: "ECONNRESET" } });

test("reads and plain writes are tried again on the next node after a 503 or any failed connection", async () => {
  const read = await script([503, reset(), 200], { write: false, retryable: "always" });
  assert.deepEqual(read.tried, ["a:1", "b:1", "c:1"]);
  assert.equal(read.outcome, 200);
  const write = await script([503, 503, 503, 503], { write: true, retryable: "always" });
  assert.deepEqual(write.tried, ["a:1", "b:1", "c:1", "a:1"], "four tries, round the nodes");
  assert.ok(write.outcome instanceof DhtError && write.outcome.status === 503 && write.outcome.outcomeUnknown, "a write that reached a node and failed may have taken effect");
  const absent = await script([refusal(), refusal(), refusal(), refusal()], { write: true, retryable: "always" });
  assert.ok(absent.outcome instanceof DhtError && !absent.outcome.outcomeUnknown, "no try reached a node: surely not written");
});

test("a conditional write is tried again only when its connection was refused: otherwise it may have taken effect", async () => {
  const kind = { write: true, retryable: "if-refused" as const };
  const afterRefusal = await script([refusal(), 204], kind);
  assert.deepEqual(afterRefusal.tried, ["a:1", "b:1"]);
  assert.equal(afterRefusal.outcome, 204);
  for (const failure of [503, reset()]) {
    const once = await script([failure, 204], kind);
    assert.deepEqual(once.tried, ["a:1"], "not sent again");
    assert.ok(once.outcome instanceof DhtError && once.outcome.outcomeUnknown, "said to be unknown");
  }
});

test("a call ends by its deadline, backoff included", async () => {
  const slow = await script([503, 503, 503, 503], { write: false, retryable: "always" }, { timeoutMs: 60, backoffMs: 40, maxBackoffMs: 40 });
  assert.ok(slow.elapsed <= 60, `${slow.elapsed} ms`);
  assert.ok(slow.tried.length < 4, `${slow.tried.length} tries within 60 ms`);
  assert.ok(slow.outcome instanceof DhtError && /503/.test(slow.outcome.message));
});

test("a ring that is not what /cluster/ring serves is refused, saying what is wrong", () => {
  const good = { epoch: 3, members: ["a:1"], quorum: { n: 3 }, vnodes: [{ position: "00ff", member: "a:1" }], pins: [] };
  assert.equal(RingView.from(good).owners("k")[0], "a:1");
  const cases: Array<[unknown, RegExp]> = [
    [null, /not an object/],
    [{ ...good, epoch: -1 }, /epoch/],
    [{ ...good, quorum: { n: 0 } }, /quorum\.n/],
    [{ ...good, vnodes: [{ position: "xyz", member: "a:1" }] }, /hex digits/],
    [{ ...good, vnodes: [{ position: "01", member: "nohost" }] }, /host:port/],
    [{ ...good, pins: [{ lo: "0", hi: "1", owners: "a:1" }] }, /owners is not a list/],
  ];
  for (const [json, why] of cases) assert.throws(() => RingView.from(json), why);
});
