/** Reads a request body into memory, refusing it as soon as it passes the limit. */
import { BadRequestError, ValueTooLargeError } from "./errors.ts";

/**
 * The whole body as bytes, at most `maxBytes` of it. A declared Content-Length over the
 * limit is refused before reading anything; a chunked or lying body is cut off at the
 * first chunk past the limit, so a huge upload is never buffered.
 */
export async function readBodyLimited(request: Request, maxBytes: number): Promise<Uint8Array> {
  const declared = request.headers.get("content-length");
  if (declared !== null) {
    if (Number(declared) > maxBytes) throw new ValueTooLargeError(maxBytes);
    // HTTP framing already bounds the body by its Content-Length, so it can be read whole:
    // much faster than a stream reader, on Node especially.
    try {
      return new Uint8Array(await request.arrayBuffer());
    } catch {
      throw new BadRequestError("request body could not be read");
    }
  }
  if (request.body === null) return new Uint8Array(0);

  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > maxBytes) {
        reader.cancel().catch(() => {});
        throw new ValueTooLargeError(maxBytes);
      }
      chunks.push(value);
    }
  } catch (err) {
    if (err instanceof ValueTooLargeError) throw err;
    throw new BadRequestError("request body could not be read");
  }
  if (chunks.length === 1) return chunks[0]!;
  const body = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return body;
}
