/**
 * The Transform every uploaded byte passes through on its way to disk: it feeds the
 * session's incremental digester, counts, and enforces the chunk's declared length
 * and the upload size cap as the bytes flow (so an oversized body is cut off early).
 */
import { Transform, type TransformCallback } from 'node:stream';
import { ContentTooLargeError, SizeMismatchError, type Digester } from '@kraken/oci-content';

export interface ChunkMeterOptions {
  /** Updated with every byte; undefined when the session's hash must be recomputed anyway. */
  readonly digester: Digester | undefined;
  /** Bytes this chunk may still add before the upload cap is crossed. */
  readonly maxBytes?: number;
  readonly uploadLimit?: number;
  /** Exact length the chunk declared. */
  readonly expectedBytes?: number;
}

export class ChunkMeter extends Transform {
  readonly #options: ChunkMeterOptions;
  #bytes = 0;

  constructor(options: ChunkMeterOptions) {
    super();
    this.#options = options;
  }

  get bytes(): number {
    return this.#bytes;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#bytes += chunk.byteLength;
    const { maxBytes, uploadLimit, expectedBytes, digester } = this.#options;
    if (maxBytes !== undefined && this.#bytes > maxBytes) {
      return callback(new ContentTooLargeError(uploadLimit ?? maxBytes, 'upload'));
    }
    if (expectedBytes !== undefined && this.#bytes > expectedBytes) {
      return callback(new SizeMismatchError(expectedBytes, this.#bytes));
    }
    digester?.update(chunk);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    const { expectedBytes } = this.#options;
    if (expectedBytes !== undefined && this.#bytes !== expectedBytes) {
      return callback(new SizeMismatchError(expectedBytes, this.#bytes));
    }
    callback();
  }
}
