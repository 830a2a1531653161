/**
 * Property-based fuzzing (fast-check) of every parser that reads what another process
 * sent: each wire decoder, the frame parser, the cluster label, the sealed envelope, the
 * cluster keys, addresses and the command line. Each either answers or throws the one
 * error its caller maps to a 4xx (or an exit-2 line), never anything else. A bounded
 * number of cases here; `scripts/fuzz.sh` runs many more.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { parseAddress, parseNodeTarget } from "../../lib/address.ts";
import { parseConfig, options } from "../../lib/config.ts";
import { Keyring, parseClusterKeys, SealError } from "../../lib/peer/keyring.ts";
import { decodeCasState } from "../../lib/wire/cas.ts";
import { MessageError } from "../../lib/wire/fields.ts";
import { decodeReplyFrame, decodeRequestFrame, FrameError } from "../../lib/wire/frames.ts";
import { ForeignClusterError, readLabel } from "../../lib/wire/label.ts";
import { decodeListReply, decodeListRequest } from "../../lib/wire/listing.ts";
import { decodeBatch, decodeBatchReplies, decodeGetReply, decodeKvRequest, decodePutReply } from "../../lib/wire/replica.ts";
import { decodeTopologyMessage, decodeTopologyReply } from "../../lib/wire/ring.ts";
import { decodeMessage } from "../../lib/wire/swim.ts";
import { decodeDigestReply, decodeDigestRequest, decodeOfferReply, decodeOfferRequest, decodePushReply, decodePushRequest } from "../../lib/wire/sync.ts";
import { simAead } from "../support/aead.ts";
import { body, fuzzParams, messageLike } from "../support/fuzz.ts";

/** Runs `parse`; anything thrown must be one of `allowed`. */
function answersOrRefuses(parse: () => unknown, allowed: Array<new (...args: never[]) => Error>, what: string): void {
  try {
    parse();
  } catch (err) {
    if (!allowed.some((kind) => err instanceof kind)) assert.fail(`${what} threw ${(err as Error)?.name}: ${(err as Error)?.message}`);
  }
}

const decoders: Array<[string, (bytes: Uint8Array) => unknown]> = [
  ["swim", decodeMessage],
  ["kv request", decodeKvRequest],
  ["get reply", (b) => decodeGetReply(b)],
  ["put reply", decodePutReply],
  ["batch", (b) => decodeBatch(b, 128)],
  ["batch replies", (b) => decodeBatchReplies(b, 128)],
  ["topology message", decodeTopologyMessage],
  ["topology reply", decodeTopologyReply],
  ["digest request", decodeDigestRequest],
  ["digest reply", decodeDigestReply],
  ["offer request", decodeOfferRequest],
  ["offer reply", decodeOfferReply],
  ["push request", decodePushRequest],
  ["push reply", decodePushReply],
  ["list request", decodeListRequest],
  ["list reply", decodeListReply],
];

test("every wire decoder answers or throws MessageError, whatever the bytes", () => {
  fc.assert(
    fc.property(body, (bytes) => {
      for (const [name, decode] of decoders) answersOrRefuses(() => decode(bytes), [MessageError], name);
    }),
    fuzzParams(),
  );
  fc.assert(fc.property(messageLike, (m) => answersOrRefuses(() => decodeCasState(m), [MessageError], "cas state")), fuzzParams());
});

test("the frame parser answers or throws FrameError", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => {
      answersOrRefuses(() => decodeRequestFrame(bytes), [FrameError], "request frame");
      answersOrRefuses(() => decodeReplyFrame(bytes), [FrameError], "reply frame");
    }),
    fuzzParams(),
  );
});

test("the cluster label answers or throws MessageError/ForeignClusterError", () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => answersOrRefuses(() => readLabel(bytes), [MessageError, ForeignClusterError], "label")), fuzzParams());
});

test("the sealed envelope opens only what was sealed; anything else is a SealError", async () => {
  const keyring = await Keyring.of([new Uint8Array(32).fill(3)], simAead);
  const aad = new Uint8Array([1, 2, 3]);
  const sealed = await keyring.seal(aad, new Uint8Array([9, 9, 9]));
  await fc.assert(
    fc.asyncProperty(fc.oneof(fc.uint8Array({ maxLength: 80 }), fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })).map(([at, xor]) => {
      const out = sealed.slice();
      out[at % out.byteLength]! ^= xor;
      return out;
    })), async (bytes) => {
      try {
        await keyring.open(aad, bytes);
        assert.fail("a message that was not sealed under the key opened");
      } catch (err) {
        assert.ok(err instanceof SealError, `threw ${(err as Error).name}: ${(err as Error).message}`);
      }
    }),
    fuzzParams(),
  );
});

test("cluster keys, addresses and the command line: a value or one line saying what is wrong", () => {
  const flags = options.map((o) => `--${o.flag}`);
  const arg = fc.oneof(fc.constantFrom(...flags, "--help", "--version", "8000", "8001", "-1", "0"), fc.string({ maxLength: 12 }), fc.constantFrom(...flags).chain((f) => fc.string({ maxLength: 8 }).map((v) => `${f}=${v}`)));
  const environment = fc.dictionary(fc.constantFrom(...options.map((o) => o.env), "DHT_PORT", "DHT_JOIN"), fc.string({ maxLength: 12 }), { maxKeys: 4 });
  fc.assert(
    fc.property(fc.array(arg, { maxLength: 6 }), environment, (argv, env) => {
      const result = parseConfig(argv, env);
      if (result.kind === "error") assert.ok(!/[\r\n]/.test(result.message), `one line: ${JSON.stringify(result.message)}`);
    }),
    fuzzParams(),
  );
  fc.assert(
    fc.property(fc.string({ maxLength: 120 }), (text) => {
      const keys = parseClusterKeys(text);
      assert.ok(typeof keys === "string" ? !/[\r\n]/.test(keys) : keys.every((k) => k.byteLength === 16 || k.byteLength === 32));
      parseAddress(text, "127.0.0.1");
      parseNodeTarget(text, "127.0.0.1");
    }),
    fuzzParams(),
  );
});
