import { test } from "node:test";
import assert from "node:assert/strict";
import { murmur3, positionHex, ringPosition, ringPositionOfBytes, vnodePositions } from "../../lib/ring/hash.ts";
import { Ring } from "../../lib/ring/ring.ts";

const member = (i: number) => `10.0.0.${i}:7000`;
const keys = Array.from({ length: 10_000 }, (_, i) => `key-${i}`);
let keyPositions: bigint[] | undefined;
const positionsOfKeys = () => (keyPositions ??= keys.map(ringPosition));

function ringOf(members: string[], vnodes = 128): Ring {
  const ring = new Ring();
  for (const m of members) ring.add(m, vnodePositions(m, vnodes));
  return ring;
}

test("murmur3 matches the reference implementation's published vectors", () => {
  const bytes = (text: string) => new TextEncoder().encode(text);
  assert.equal(murmur3(bytes(""), 0), 0);
  assert.equal(murmur3(bytes(""), 1), 0x514e28b7);
  assert.equal(murmur3(bytes("abc"), 0), 0xb3dd93fa);
  assert.equal(murmur3(bytes("Hello, world!"), 1234), 0xfaf6cdb3);
  assert.equal(murmur3(bytes("The quick brown fox jumps over the lazy dog"), 0), 0x2e4ff723);
});

test("a ring position is two murmur3 digests of the UTF-8 bytes, as an unsigned 64-bit integer", () => {
  const bytes = new TextEncoder().encode("user/42 ✓");
  assert.equal(ringPosition("user/42 ✓"), (BigInt(murmur3(bytes, 0x9747b28c)) << 32n) | BigInt(murmur3(bytes, 0x5bd1e995)));
  assert.equal(positionHex(ringPosition("abc")).length, 16);
  for (const text of ["abc", "x".repeat(5000), `${"y".repeat(3000)}é`, "", "ü"]) {
    const b = new TextEncoder().encode(text);
    assert.equal(ringPosition(text), (BigInt(murmur3(b, 0x9747b28c)) << 32n) | BigInt(murmur3(b, 0x5bd1e995)), `${text.slice(0, 5)}… (${text.length})`);
  }
});

test("a position read from bytes where they lie, at any offset, is the text's position", () => {
  for (const text of ["abc", "user/42 ✓", "x".repeat(1029), "", "𝄞"]) {
    const bytes = new TextEncoder().encode(text);
    for (const offset of [0, 1, 3, 7]) {
      const buffer = new Uint8Array(offset + bytes.length + 5).fill(0xa5);
      buffer.set(bytes, offset);
      assert.equal(ringPositionOfBytes(buffer, offset, bytes.length), ringPosition(text), `${text.slice(0, 5)}… at ${offset}`);
    }
  }
});

test("preference lists are worked out once per ring, and a change to the ring is seen at once", () => {
  const ring = new Ring();
  ring.add("a", [100n, 400n]);
  ring.add("b", [200n, 500n]);
  const first = ring.preferenceList(150n, 2);
  assert.equal(ring.preferenceList(180n, 2), first, "the same first vnode: the same list");
  assert.deepEqual(ring.preferenceList(150n, 1), ["b"], "another length is another list");
  ring.add("c", [160n]);
  assert.deepEqual(ring.preferenceList(150n, 2), ["c", "b"], "a member added");
  ring.remove("b");
  assert.deepEqual(ring.preferenceList(150n, 2), ["c", "a"], "a member removed");
  assert.deepEqual(ring.preferenceListOfHalves(0, 150, 2), ["c", "a"], "a member removed, found by halves");
  assert.deepEqual(first, ["b", "a"], "a list handed out stays as it was");
});

test("a position given as halves finds the same preference list as the position", () => {
  const ring = ringOf(Array.from({ length: 12 }, (_, i) => member(i)));
  const positions = Array.from({ length: 2_000 }, (_, i) => ringPosition(`k${i}`)).concat([0n, 1n, 2n ** 32n, 2n ** 64n - 1n]);
  positions.push(...ring.vnodes().slice(0, 50).map((v) => v.position));
  for (const p of positions) {
    for (const n of [1, 3]) assert.deepEqual(ring.preferenceListOfHalves(Number(p >> 32n), Number(p & 0xffff_ffffn), n), ring.preferenceList(p, n), `${p}`);
  }
});

test("preferenceList walks clockwise, returns N distinct members, and wraps around", () => {
  const ring = new Ring();
  ring.add("a", [100n, 400n]);
  ring.add("b", [200n, 500n]);
  ring.add("c", [300n]);
  assert.deepEqual(ring.preferenceList(150n, 3), ["b", "c", "a"]);
  assert.deepEqual(ring.preferenceList(200n, 2), ["b", "c"], "a vnode's own position belongs to it");
  assert.deepEqual(ring.preferenceList(450n, 3), ["b", "a", "c"], "past 400: b at 500, then wrap to a at 100, c at 300");
  assert.deepEqual(ring.preferenceList(600n, 2), ["a", "b"], "past the last vnode: wrap to the first");
  assert.deepEqual(ring.preferenceList(0n, 5), ["a", "b", "c"], "fewer members than N: all of them");
  assert.deepEqual(new Ring().preferenceList(1n, 3), []);
});

test("members are added and removed incrementally; the ring is the same whatever the order", () => {
  const members = [1, 2, 3, 4, 5].map(member);
  const forward = ringOf(members);
  const backward = ringOf([...members].reverse());
  assert.equal(forward.checksum(), backward.checksum());
  assert.deepEqual(forward.vnodes(), backward.vnodes());

  const removed = ringOf(members);
  removed.remove(member(3));
  assert.notEqual(removed.checksum(), forward.checksum());
  assert.ok(removed.vnodes().every((v) => v.member !== member(3)));
  assert.equal(removed.vnodes().length, 4 * 128);
  removed.add(member(3), vnodePositions(member(3), 128));
  assert.equal(removed.checksum(), forward.checksum(), "removing and adding back restores the ring");
  for (let i = 1; i < forward.vnodes().length; i++) assert.ok(forward.vnodes()[i - 1]!.position <= forward.vnodes()[i]!.position);
});

test("balance: with 128 vnodes, max/mean primaries per member is at most 1.25 over 10,000 keys (5-20 members)", () => {
  const positions = positionsOfKeys();
  for (const m of [5, 8, 12, 20]) {
    const ring = ringOf(Array.from({ length: m }, (_, i) => member(i + 1)));
    const counts = new Map<string, number>();
    for (const p of positions) counts.set(ring.primary(p)!, (counts.get(ring.primary(p)!) ?? 0) + 1);
    const max = Math.max(...counts.values());
    const mean = keys.length / m;
    assert.equal(counts.size, m, "every member owns keys");
    assert.ok(max / mean <= 1.25, `${m} members: max/mean ${(max / mean).toFixed(3)}`);
  }
});

test("adding one member to M moves about 1/(M+1) of the primaries, all of them to the newcomer", () => {
  const positions = positionsOfKeys();
  for (const m of [5, 10, 19]) {
    const ring = ringOf(Array.from({ length: m }, (_, i) => member(i + 1)));
    const before = positions.map((p) => ring.primary(p));
    const newcomer = member(100);
    ring.add(newcomer, vnodePositions(newcomer, 128));
    const after = positions.map((p) => ring.primary(p));
    let moved = 0;
    after.forEach((owner, i) => {
      if (owner !== before[i]) {
        moved++;
        assert.equal(owner, newcomer, "a key only ever moves to the new member");
      }
    });
    const fraction = moved / positions.length;
    const ideal = 1 / (m + 1);
    assert.ok(fraction > ideal * 0.7 && fraction < ideal * 1.3, `${m}+1 members: moved ${fraction.toFixed(4)}, ideal ${ideal.toFixed(4)}`);
  }
});

test("the checksum is 8 hex digits and tells different rings apart", () => {
  const a = ringOf([member(1), member(2)]);
  const b = ringOf([member(1), member(3)]);
  assert.match(a.checksum(), /^[0-9a-f]{8}$/);
  assert.notEqual(a.checksum(), b.checksum());
  assert.notEqual((ringOf([member(1), member(2)], 64)).checksum(), a.checksum(), "vnode count matters");
});
