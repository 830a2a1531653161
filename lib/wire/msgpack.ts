/**
 * MessagePack for every internal message, through reused coders. The library's `encode()`
 * and `decode()` build a new Encoder (with its buffer) or Decoder (with its caches) per
 * call, which profiling showed among a coordinator's largest costs; an instance serves any
 * number of calls (and clones itself if a call re-enters).
 */
import { Decoder, type DecoderOptions, Encoder } from "@msgpack/msgpack";

const encoder = new Encoder();

/** The value's msgpack bytes: a fresh array, safe to keep. */
export function encodeMsgpack(value: unknown): Uint8Array {
  return encoder.encode(value);
}

/** A decoder with these limits, made once and reused. */
export function msgpackDecoder(options: DecoderOptions = {}): (bytes: Uint8Array) => unknown {
  const decoder = new Decoder(options);
  return (bytes) => decoder.decode(bytes);
}
