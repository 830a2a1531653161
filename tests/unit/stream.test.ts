/**
 * Peer streams without sockets: the frame codec, a node answering frames, and the
 * transport over a fake WebSocket.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { defaultConfig } from "../../lib/config.ts";
import type { PeerReply, Transport } from "../../lib/env.ts";
import { createNode } from "../../lib/node.ts";
import { decodeBatchReplies, decodeGetReply, encodeBatch, encodeKvRequest } from "../../lib/wire/replica.ts";
import { decodeReplyFrame, decodeRequestFrame, encodeReplyFrame, encodeRequestFrame, FrameError } from "../../lib/wire/frames.ts";
import { maxFrameBytes, socketResponder } from "../../lib/stream/responder.ts";
import { MAX_PENDING_PER_STREAM, STALL_ABORTS, type StreamSocket, streamTransport } from "../../lib/stream/transport.ts";
import { req, testEnv } from "../support/env.ts";
import { labelled, unlabelled } from "../support/label.ts";

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (b: Uint8Array) => new TextDecoder().decode(b);
const settle = () => new Promise<void>((r) => setTimeout(r, 0));

test("frames round-trip ids, paths, statuses and bodies", () => {
  const request = decodeRequestFrame(encodeRequestFrame(0xfffffffe, "/_kv/bätch", bytes("body")));
  assert.equal(request.id, 0xfffffffe);
  assert.equal(request.path, "/_kv/bätch");
  assert.equal(text(request.body), "body");
  const reply = decodeReplyFrame(encodeReplyFrame(7, 503, bytes("{}")));
  assert.deepEqual({ ...reply, body: text(reply.body) }, { id: 7, status: 503, body: "{}" });
  const empty = decodeRequestFrame(encodeRequestFrame(1, "/p", new Uint8Array(0)));
  assert.equal(empty.body.byteLength, 0);
  // A frame read out of a larger buffer (as some WebSocket servers hand them over).
  const framed = encodeRequestFrame(9, "/_kv/get", bytes("x"));
  const inside = new Uint8Array(framed.byteLength + 10);
  inside.set(framed, 5);
  assert.equal(decodeRequestFrame(inside.subarray(5, 5 + framed.byteLength)).id, 9);
});

test("unreadable frames are refused with a FrameError", () => {
  assert.throws(() => decodeRequestFrame(new Uint8Array(5)), FrameError);
  const runsPast = encodeRequestFrame(1, "/_kv/get", new Uint8Array(0)).subarray(0, 8);
  assert.throws(() => decodeRequestFrame(runsPast), FrameError);
  const badUtf8 = encodeRequestFrame(1, "/ab", new Uint8Array(0));
  badUtf8[6] = 0xff;
  assert.throws(() => decodeRequestFrame(badUtf8), FrameError);
  assert.throws(() => decodeReplyFrame(new Uint8Array(3)), FrameError);
  assert.ok(maxFrameBytes(1024 * 1024) > 2 * 1024 * 1024, "room for a full batch of the largest values");
});

async function loneNode(maxValueBytes?: number) {
  const node = createNode(defaultConfig({ port: 7000, ...(maxValueBytes === undefined ? {} : { maxValueBytes }) }), testEnv());
  await node.fetch(req("PUT /d/k", "v"));
  return node;
}

test("a node answers a batch frame as /_kv/batch answers the POST, and counts it", async () => {
  const node = await loneNode();
  const batch = encodeBatch([encodeKvRequest({ type: "get", epoch: 1, key: "k" }), bytes("garbage"), encodeKvRequest({ type: "get", epoch: 1, key: "absent" })]);
  const reply = decodeReplyFrame(await node.answerFrame(encodeRequestFrame(3, "/_kv/batch", labelled(batch))));
  assert.equal(reply.id, 3);
  assert.equal(reply.status, 200);
  const replies = decodeBatchReplies(unlabelled(reply.body), 3);
  assert.deepEqual(replies.map((r) => r.status), [200, 400, 200]);
  assert.equal(text(decodeGetReply(replies[0]!.body).entry!.value), "v");
  assert.match(JSON.parse(text(replies[1]!.body)).error, /msgpack/);
  const viaHttp = await node.fetch(req("POST /_kv/batch", labelled(batch)));
  assert.deepEqual(new Uint8Array(await viaHttp.arrayBuffer()), reply.body, "the same bytes as over HTTP");

  const garbage = decodeReplyFrame(await node.answerFrame(encodeRequestFrame(5, "/_kv/batch", labelled(bytes("not msgpack")))));
  assert.equal(garbage.status, 400);
  assert.match(JSON.parse(text(garbage.body)).error, /msgpack/);
  const metrics = await (await node.fetch(req("GET /metrics"))).text();
  assert.match(metrics, /dht_stream_frames_total\{route="\/_kv\/batch",status="200"\} 1/);
  assert.match(metrics, /dht_stream_frames_total\{route="\/_kv\/batch",status="400"\} 1/);
  await node.stop();
});

test("a stream carries the peer table's paths only; an oversized batch is refused; a frame it cannot read throws", async () => {
  const node = await loneNode(1);
  for (const path of ["/_kv/get", "/_kv/put", "/d/k", "/health", "/_kv/stream", ""]) {
    const reply = decodeReplyFrame(await node.answerFrame(encodeRequestFrame(1, path, encodeKvRequest({ type: "get", epoch: 1, key: "k" }))));
    assert.equal(reply.status, 404, path);
    assert.match(JSON.parse(text(reply.body)).error, /no peer message .*\/_swim\/ping/);
  }
  const huge = decodeReplyFrame(await node.answerFrame(encodeRequestFrame(2, "/_kv/batch", new Uint8Array(maxFrameBytes(1)))));
  assert.equal(huge.status, 413);
  await assert.rejects(node.answerFrame(new Uint8Array(2)), FrameError);
  const plain = await node.fetch(req("GET /_kv/stream"));
  assert.equal(plain.status, 426, "a stream opens with an upgrade, which adapters take before routing");
  assert.equal(plain.headers.get("upgrade"), "websocket");
  assert.ok(node.store.get("k") !== undefined, "nothing lost");
  await node.stop();
});

/**
 * A fake WebSocket: frames sent by the transport go to `respond` (in order, or held while
 * `hold` is set); the test can open, close, or inject frames.
 */
class FakeSocket implements StreamSocket {
  binaryType = "blob";
  onopen: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onclose: ((event: unknown) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;
  sent: Uint8Array[] = [];
  closed = false;
  constructor(readonly url: string) {}
  send(data: Uint8Array<ArrayBuffer>) {
    if (this.closed) return;
    this.sent.push(data);
  }
  close() {
    if (this.closed) return;
    this.closed = true;
    queueMicrotask(() => this.onclose?.({}));
  }
  open() {
    this.onopen?.({});
  }
  deliver(frame: Uint8Array) {
    const copy = frame.slice(); // an ArrayBuffer of its own, as a real socket gives
    this.onmessage?.({ data: copy.buffer });
  }
}

function harness() {
  const sockets: FakeSocket[] = [];
  const viaHttp: string[] = [];
  const http: Transport = {
    async send(peer, path): Promise<PeerReply> {
      viaHttp.push(`${peer}${path}`);
      return { status: 200, body: bytes("http") };
    },
    async close() {},
  };
  const transport = streamTransport(http, (url) => {
    const socket = new FakeSocket(url);
    sockets.push(socket);
    return socket;
  });
  /** Answers every frame sent so far on `socket`, in the order given. */
  const answer = (socket: FakeSocket, order?: number[]) => {
    const frames = socket.sent.splice(0).map(decodeRequestFrame);
    for (const i of order ?? frames.map((_, i) => i)) {
      const f = frames[i]!;
      socket.deliver(encodeReplyFrame(f.id, 200, bytes(`${f.path}:${text(f.body)}`)));
    }
  };
  return { sockets, viaHttp, transport, answer };
}

test("the stream transport multiplexes requests on one socket per peer and matches replies by id", async () => {
  const { sockets, viaHttp, transport, answer } = harness();
  const replies = ["a", "b", "c"].map((m) => transport.send("p:1", "/_kv/batch", bytes(m)));
  const other = transport.send("q:2", "/_kv/batch", bytes("d"));
  assert.deepEqual(sockets.map((s) => s.url), ["ws://p:1/_kv/stream", "ws://q:2/_kv/stream"]);
  assert.equal(sockets[0]!.binaryType, "arraybuffer");
  assert.equal(sockets[0]!.sent.length, 0, "nothing is written before the socket opens");
  sockets[0]!.open();
  sockets[1]!.open();
  assert.equal(sockets[0]!.sent.length, 3);
  answer(sockets[0]!, [2, 0, 1]); // out of order
  answer(sockets[1]!);
  assert.deepEqual((await Promise.all(replies)).map((r) => text(r.body)), ["/_kv/batch:a", "/_kv/batch:b", "/_kv/batch:c"]);
  assert.equal(text((await other).body), "/_kv/batch:d");
  // Other routes (membership probes, stabilisation) stay on HTTP.
  assert.equal(text((await transport.send("p:1", "/_swim/ping", bytes("x"))).body), "http");
  assert.deepEqual(viaHttp, ["p:1/_swim/ping"]);
  assert.equal(sockets.length, 2, "the open socket is reused");
  const again = transport.send("p:1", "/_kv/batch", bytes("e"));
  answer(sockets[0]!);
  assert.equal(text((await again).body), "/_kv/batch:e");
  await transport.close();
  assert.ok(sockets.every((s) => s.closed));
});

test("a closed stream fails what was in flight, and the next request opens a new one", async () => {
  const { sockets, transport, answer } = harness();
  const first = transport.send("p:1", "/_kv/batch", bytes("a"));
  sockets[0]!.open();
  sockets[0]!.close(); // the peer went away
  await assert.rejects(first, { name: "StreamClosedError" });
  const second = transport.send("p:1", "/_kv/batch", bytes("b"));
  assert.equal(sockets.length, 2);
  sockets[1]!.open();
  answer(sockets[1]!);
  assert.equal(text((await second).body), "/_kv/batch:b");

  // A socket that never opens (connection refused) fails its queued requests.
  const third = transport.send("r:3", "/_kv/batch", bytes("c"));
  sockets[2]!.onerror?.({});
  await assert.rejects(third, { name: "StreamClosedError" });
  await transport.close();
});

test("an aborted request rejects at once and its late reply is ignored", async () => {
  const { sockets, transport, answer } = harness();
  const controller = new AbortController();
  const slow = transport.send("p:1", "/_kv/batch", bytes("slow"), controller.signal);
  const fast = transport.send("p:1", "/_kv/batch", bytes("fast"));
  sockets[0]!.open();
  controller.abort(new Error("timed out"));
  await assert.rejects(slow, /timed out/);
  answer(sockets[0]!);
  assert.equal(text((await fast).body), "/_kv/batch:fast");
  const already = new AbortController();
  already.abort(new Error("before"));
  await assert.rejects(transport.send("p:1", "/_kv/batch", bytes("x"), already.signal), /before/);
  await transport.close();
});

test("a peer that sends a frame the transport cannot read loses its stream, not the node", async () => {
  const { sockets, transport } = harness();
  const pending = transport.send("p:1", "/_kv/batch", bytes("a"));
  sockets[0]!.open();
  sockets[0]!.onmessage?.({ data: "text frame" });
  await assert.rejects(pending, /bad frame/);
  assert.ok(sockets[0]!.closed);
  const next = transport.send("p:1", "/_kv/batch", bytes("b"));
  sockets[1]!.open();
  sockets[1]!.deliver(new Uint8Array(2));
  await assert.rejects(next, /bad frame/);
  await settle();
  await transport.close();
});

test("a stream on which requests keep timing out with nothing arriving is closed as stalled, and the next request opens a new one", async () => {
  // As after a link that dropped packets one way for a while: TCP retransmits on a long
  // backoff, so the old socket stays silent long after the link is back.
  const { sockets, transport, answer } = harness();
  const timedOut = async (body: string) => {
    const aborter = new AbortController();
    const sent = transport.send("p:1", "/_kv/batch", bytes(body), aborter.signal);
    aborter.abort(new Error("timeout"));
    await assert.rejects(sent, /timeout/);
  };
  const warm = transport.send("p:1", "/_kv/batch", bytes("warm"));
  sockets[0]!.open();
  answer(sockets[0]!);
  await warm;
  // A late answer to an abandoned request means the socket is alive: the count starts over.
  await timedOut("a");
  await timedOut("b");
  answer(sockets[0]!);
  await timedOut("c");
  await timedOut("d");
  assert.equal(sockets[0]!.closed, false, "two silent timeouts in a row are not yet a stall");
  await timedOut("e");
  assert.equal(sockets[0]!.closed, true, `${STALL_ABORTS} silent timeouts in a row are`);
  const fresh = transport.send("p:1", "/_kv/batch", bytes("f"));
  assert.equal(sockets.length, 2);
  sockets[1]!.open();
  answer(sockets[1]!);
  assert.equal(text((await fresh).body), "/_kv/batch:f");
});

test("a socket's receiving side answers on that socket, and closes it past the frames a sender may have in flight", async () => {
  const held: Array<(reply: Uint8Array<ArrayBuffer>) => void> = [];
  const sent: number[] = [];
  const closed: Array<[number, string]> = [];
  const answer = socketResponder(
    (frame) => new Promise((resolve, reject) => (frame[0] === 0xff ? reject(new Error("unreadable")) : held.push(resolve))),
    { send: (reply) => sent.push(reply[0]!), close: (code, reason) => closed.push([code, reason]) },
  );
  for (let i = 0; i < MAX_PENDING_PER_STREAM; i++) answer(new Uint8Array([1]));
  held[0]!(new Uint8Array([7]));
  await settle();
  assert.deepEqual(sent, [7], "an answer goes back on the socket");
  answer(new Uint8Array([1])); // the freed place is taken again: still within the bound
  assert.deepEqual(closed, []);
  answer(new Uint8Array([1]));
  assert.deepEqual(closed, [[1008, "too many frames in flight"]]);
  answer(new Uint8Array([1]));
  held[1]!(new Uint8Array([8]));
  await settle();
  assert.equal(held.length, MAX_PENDING_PER_STREAM + 1, "nothing is taken after the close");
  assert.deepEqual(sent, [7], "nor answered");

  const other: Array<[number, string]> = [];
  const unreadable = socketResponder(() => Promise.reject(new Error("x")), { send: () => {}, close: (code, reason) => other.push([code, reason]) });
  unreadable(new Uint8Array([0xff]));
  unreadable(new Uint8Array([0xff]));
  await settle();
  assert.deepEqual(other, [[1007, "unreadable frame"]], "closed once");
});
