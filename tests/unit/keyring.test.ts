/** The cluster keyring (lib/peer/keyring.ts) and the envelope round a node's handlers (lib/peer/envelope.ts). */
import { test } from "node:test";
import assert from "node:assert/strict";
import { defaultConfig } from "../../lib/config.ts";
import { createNode } from "../../lib/node.ts";
import { Keyring, parseClusterKeys, SealError, webCryptoAead } from "../../lib/peer/keyring.ts";
import { nodeCryptoAead } from "../../adapters/aead.ts";
import { decodeMessage, encodeMessage } from "../../lib/wire/swim.ts";
import { labelFor } from "../../lib/wire/label.ts";
import { testEnv } from "../support/env.ts";
import { labelled } from "../support/label.ts";

const key = (fill: number, bytes = 32) => new Uint8Array(bytes).fill(fill);
const b64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));
const text = (s: string) => new TextEncoder().encode(s);

test("cluster keys as an operator writes them: base64, comma-separated, 16 or 32 bytes each", () => {
  assert.deepEqual(parseClusterKeys(`${b64(key(1))}, ${b64(key(2, 16))}\n`), [key(1), key(2, 16)]);
  const bad: Array<[string, RegExp]> = [["", /no key/], [" , ", /no key/], ["not base64!", /key 1 is not base64/], [`${b64(key(1))},${b64(key(2, 24))}`, /key 2 is 24 bytes/]];
  for (const [input, message] of bad) assert.match(parseClusterKeys(input) as string, message, JSON.stringify(input));
});

test("a sealed message opens under any key of a ring holding its key, with the same associated data, untouched", async () => {
  const [k1, k2] = [key(1), key(2)];
  const sealer = await Keyring.of([k1]);
  const sealed = await sealer.seal(text("dht/_kv/batch"), text("hello"));
  assert.equal(new TextDecoder().decode(await (await Keyring.of([k2, k1])).open(text("dht/_kv/batch"), sealed)), "hello", "a ring that lists the key second (a rotation under way)");
  const refusals: Array<[string, Keyring, Uint8Array, Uint8Array]> = [
    ["another key", await Keyring.of([k2]), text("dht/_kv/batch"), sealed],
    ["another path or cluster", sealer, text("dht/_swim/ping"), sealed],
    ["a flipped bit", sealer, text("dht/_kv/batch"), sealed.map((b, i) => (i === sealed.byteLength - 3 ? b ^ 1 : b))],
    ["not sealed at all", sealer, text("dht/_kv/batch"), text("hello")],
    ["cut short", sealer, text("dht/_kv/batch"), sealed.subarray(0, 20)],
  ];
  for (const [what, ring, aad, bytes] of refusals) await assert.rejects(ring.open(aad, bytes), SealError, what);
  const again = await sealer.seal(text("a"), text("same"));
  const twice = await sealer.seal(text("a"), text("same"));
  assert.notDeepEqual(again, twice, "a new nonce for every message");
});

test("a keyed node answers only sealed messages of its key: 401 otherwise, counted, and nothing changes", async () => {
  const keyring = await Keyring.of([key(7)]);
  const node = createNode(defaultConfig({ port: 7000 }), testEnv(), { runtime: "test", keyring });
  const ping = encodeMessage({ type: "ping", from: "10.0.0.9:7000", incarnation: 0, epoch: 0, target: node.id, updates: [] });
  const label = labelFor("dht");
  const aad = (path: string, reply = 0) => new Uint8Array([...label, ...text(path), reply]);
  const strangers: Array<[string, Uint8Array]> = [
    ["unsealed", labelled(ping)],
    ["sealed with another key", labelled(await (await Keyring.of([key(8)])).seal(aad("/_swim/ping"), ping))],
    ["sealed for another path", labelled(await keyring.seal(aad("/_swim/ping-req"), ping))],
    ["a reply replayed as a request", labelled(await keyring.seal(aad("/_swim/ping", 1), ping))],
  ];
  for (const [what, body] of strangers) {
    const reply = await node.answerPeer("/_swim/ping", body);
    assert.equal(reply.status, 401, what);
    assert.match(new TextDecoder().decode(reply.body), /"error"/);
  }
  assert.deepEqual(node.swim.members().map((m) => m.id), [node.id], "the sender was not taken in");
  const sealed = await node.answerPeer("/_swim/ping", labelled(await keyring.seal(aad("/_swim/ping"), ping)));
  assert.equal(sealed.status, 200, "its own key opens");
  const ack = decodeMessage(await keyring.open(aad("/_swim/ping", 1), sealed.body.subarray(label.byteLength)));
  assert.equal(ack.type, "ack", "and the reply is sealed too");
  assert.ok(node.swim.members().some((m) => m.id === "10.0.0.9:7000"));
  assert.match(await (await node.fetch(new Request("http://n/metrics"))).text(), /dht_peer_refused_total\{reason="key"\} 4/);
  // A keyless node refuses a sealed message too: it cannot open it.
  const keyless = createNode(defaultConfig({ port: 7001 }), testEnv(), { runtime: "test" });
  assert.equal((await keyless.answerPeer("/_swim/ping", labelled(await keyring.seal(aad("/_swim/ping"), ping)))).status, 401);
  await Promise.all([node.stop(), keyless.stop()]);
});

test("the adapters' node:crypto cipher and crypto.subtle seal the same way: each opens what the other sealed", async () => {
  for (const raw of [key(3), key(4, 16)]) {
    const [web, native] = [await Keyring.of([raw], webCryptoAead), await Keyring.of([raw], nodeCryptoAead)];
    assert.deepEqual(web.ids(), native.ids(), "the same key id");
    for (const [from, to] of [[web, native], [native, web]] as const) {
      const sealed = await from.seal(text("dht/p"), text("across"));
      assert.equal(new TextDecoder().decode(await to.open(text("dht/p"), sealed)), "across");
      await assert.rejects(to.open(text("dht/q"), sealed), SealError);
      await assert.rejects(to.open(text("dht/p"), sealed.map((b, i) => (i === 20 ? b ^ 1 : b))), SealError);
    }
  }
});
