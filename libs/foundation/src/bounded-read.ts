/**
 * Reading a whole body into memory, which only small documents may do (JSON answers,
 * tokens, manifests): the read stops at a hard limit and destroys the source, so a
 * misbehaving peer can never make us buffer more than the limit.
 */

/** A readable body: a Node stream, an HTTP response body, or any async iterable of bytes. */
export interface ByteSource extends AsyncIterable<Uint8Array> {
  destroy?(error?: Error): unknown;
}

export interface BoundedReadResult {
  /** The bytes read, up to the limit; undefined when the body was larger. */
  readonly bytes: Buffer | undefined;
  /** Bytes seen, which exceeds the limit when `bytes` is undefined. */
  readonly size: number;
}

/**
 * Reads `source` to its end when it holds at most `maxBytes`; otherwise stops at the
 * first byte over, destroys the source and returns `bytes: undefined` so that the
 * caller raises the error its protocol calls for.
 */
export async function readBounded(source: ByteSource, maxBytes: number): Promise<BoundedReadResult> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of source) {
    size += chunk.byteLength;
    if (size > maxBytes) {
      source.destroy?.();
      return { bytes: undefined, size };
    }
    chunks.push(
      Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength),
    );
  }
  return { bytes: Buffer.concat(chunks, size), size };
}

/**
 * Reads at most `maxBytes` of `source` and destroys it if more follows: for bodies
 * worth showing in part (an error page), where a body over the limit is no failure.
 */
export async function readPrefix(source: ByteSource, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of source) {
    const take = Math.min(chunk.byteLength, maxBytes - total);
    chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, take));
    total += take;
    if (total >= maxBytes) {
      source.destroy?.();
      break;
    }
  }
  return Buffer.concat(chunks, total);
}
