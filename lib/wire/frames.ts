/**
 * Peer streams: the same internal routes, carried over one WebSocket per pair of nodes
 * instead of one HTTP exchange per message. A frame is a request to an internal route or
 * its reply, matched by an id, so many are in flight on one socket at once:
 *
 *   request  u32 id · u16 path length · path (UTF-8) · body
 *   reply    u32 id · u16 status · body
 *
 * The receiving side answers a request frame with the same handler, limits and checks as
 * the POST (lib/peer/table.ts), so the stream adds a cheaper carrier and no second way in.
 * docs/benchmarks.md has what a message costs on each carrier.
 */

const REQUEST_HEADER = 6;
const REPLY_HEADER = 6;

export class FrameError extends Error {
  override name = "FrameError";
}

export interface RequestFrame {
  id: number;
  path: string;
  body: Uint8Array;
}

export interface ReplyFrame {
  id: number;
  status: number;
  body: Uint8Array;
}

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder("utf-8", { fatal: true });

export function encodeRequestFrame(id: number, path: string, body: Uint8Array): Uint8Array<ArrayBuffer> {
  const p = utf8.encode(path);
  if (p.byteLength > 0xffff) throw new FrameError("path too long");
  const frame = new Uint8Array(REQUEST_HEADER + p.byteLength + body.byteLength);
  const view = new DataView(frame.buffer);
  view.setUint32(0, id);
  view.setUint16(4, p.byteLength);
  frame.set(p, REQUEST_HEADER);
  frame.set(body, REQUEST_HEADER + p.byteLength);
  return frame;
}

export function decodeRequestFrame(frame: Uint8Array): RequestFrame {
  if (frame.byteLength < REQUEST_HEADER) throw new FrameError(`a request frame is at least ${REQUEST_HEADER} bytes`);
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const id = view.getUint32(0);
  const length = view.getUint16(4);
  if (REQUEST_HEADER + length > frame.byteLength) throw new FrameError("path runs past the end of the frame");
  let path: string;
  try {
    path = fromUtf8.decode(frame.subarray(REQUEST_HEADER, REQUEST_HEADER + length));
  } catch {
    throw new FrameError("path is not UTF-8");
  }
  return { id, path, body: frame.subarray(REQUEST_HEADER + length) };
}

export function encodeReplyFrame(id: number, status: number, body: Uint8Array): Uint8Array<ArrayBuffer> {
  const frame = new Uint8Array(REPLY_HEADER + body.byteLength);
  const view = new DataView(frame.buffer);
  view.setUint32(0, id);
  view.setUint16(4, status);
  frame.set(body, REPLY_HEADER);
  return frame;
}

export function decodeReplyFrame(frame: Uint8Array): ReplyFrame {
  if (frame.byteLength < REPLY_HEADER) throw new FrameError(`a reply frame is at least ${REPLY_HEADER} bytes`);
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  return { id: view.getUint32(0), status: view.getUint16(4), body: frame.subarray(REPLY_HEADER) };
}
