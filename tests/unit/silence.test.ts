/** Who the ring's driver counts as gone for not answering (topology/silence.ts). */
import { test } from "node:test";
import assert from "node:assert/strict";
import { BARRED_MS, PATIENCE_MS, Silence } from "../../lib/topology/silence.ts";

test("silence counts while the driver keeps asking: forgotten once not asked, gone past the patience, barred until the bar ends", () => {
  const yes = () => true;
  const cases: Array<[string, (s: Silence) => void, number, string[]]> = [
    ["asked once, unanswered, not asked again", (s) => { s.polled(new Set(["a"]), new Set(), yes, 0); s.polled(new Set(), new Set(), yes, 1_000); }, PATIENCE_MS + 1_000, []],
    ["unanswered and asked all along", (s) => { s.polled(new Set(["a"]), new Set(), yes, 0); s.polled(new Set(["a"]), new Set(), yes, PATIENCE_MS); }, PATIENCE_MS + 1, ["a"]],
    ["gone, then no longer asked: still gone (barred)", (s) => { s.polled(new Set(["a"]), new Set(), yes, 0); s.polled(new Set(), new Set(), yes, PATIENCE_MS + 1); }, PATIENCE_MS + 2, ["a"]],
    ["the bar ends", (s) => { s.polled(new Set(["a"]), new Set(), yes, 0); s.polled(new Set(["a"]), new Set(), yes, PATIENCE_MS + 1); }, PATIENCE_MS + BARRED_MS + 1, []],
    ["answered after all", (s) => { s.polled(new Set(["a"]), new Set(), yes, 0); s.polled(new Set(["a"]), new Set(["a"]), yes, 5_000); }, PATIENCE_MS + 1, []],
    ["a member SWIM holds dead does not count", (s) => s.polled(new Set(["a"]), new Set(), () => false, 0), PATIENCE_MS + 1, []],
    ["reported unreachable by its streamers", (s) => s.reported([{ key: "a", id: "a:1" }], new Set(["a:1"]), 0), PATIENCE_MS + 1, ["a"]],
    ["reached after all", (s) => { s.reported([{ key: "a", id: "a:1" }], new Set(["a:1"]), 0); s.reported([{ key: "a", id: "a:1" }], new Set(), 1); }, PATIENCE_MS + 1, []],
  ];
  for (const [what, setup, at, want] of cases) {
    const silence = new Silence();
    setup(silence);
    assert.deepEqual([...silence.gone(at)], want, what);
  }
});
