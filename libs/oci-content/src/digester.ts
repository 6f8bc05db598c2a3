/**
 * Streaming digest computation and verification. Content is hashed as it flows, so
 * no caller ever needs to hold a whole blob in memory.
 */
import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { digestFromHex, type Digest, type DigestAlgorithm } from './digest.js';
import { DigestMismatchError, SizeMismatchError, ContentTooLargeError } from './errors.js';

/** Incremental hasher that also counts bytes. */
export interface Digester {
  update(chunk: Uint8Array): void;
  readonly bytes: number;
  digest(): Digest;
}

export function createDigester(algorithm: DigestAlgorithm = 'sha256'): Digester {
  const hash: Hash = createHash(algorithm);
  let bytes = 0;
  let result: Digest | undefined;
  return {
    update(chunk) {
      hash.update(chunk);
      bytes += chunk.byteLength;
    },
    get bytes() {
      return bytes;
    },
    digest() {
      result ??= digestFromHex(algorithm, hash.digest('hex'));
      return result;
    },
  };
}

/** Digest of an in-memory buffer (manifests, small test content). */
export function digestOf(data: Uint8Array | string, algorithm: DigestAlgorithm = 'sha256'): Digest {
  return digestFromHex(algorithm, createHash(algorithm).update(data).digest('hex'));
}

export interface VerifyOptions {
  /** When set, the stream fails unless the content hashes to this digest. */
  expected?: Digest;
  /** Algorithm used when no expected digest is given. */
  algorithm?: DigestAlgorithm;
  /** When set, the stream fails unless exactly this many bytes pass. */
  expectedSize?: number;
  /** Hard cap; the stream fails as soon as more bytes than this arrive. */
  maxSize?: number;
}

/**
 * A pass-through Transform that hashes what flows through it. It fails in its flush
 * step (so before the consumer sees a clean end) when the digest or size is wrong,
 * and fails early once the size cap is crossed.
 */
export class DigestVerifyStream extends Transform {
  readonly #digester: Digester;
  readonly #options: VerifyOptions;

  constructor(options: VerifyOptions = {}) {
    super();
    this.#options = options;
    this.#digester = createDigester(options.expected?.algorithm ?? options.algorithm ?? 'sha256');
  }

  get bytes(): number {
    return this.#digester.bytes;
  }

  /** The computed digest; valid once the stream has ended. */
  get digest(): Digest {
    return this.#digester.digest();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, callback: TransformCallback): void {
    this.#digester.update(chunk);
    const { maxSize, expectedSize } = this.#options;
    if (maxSize !== undefined && this.#digester.bytes > maxSize)
      return callback(new ContentTooLargeError(maxSize));
    if (expectedSize !== undefined && this.#digester.bytes > expectedSize) {
      return callback(new SizeMismatchError(expectedSize, this.#digester.bytes));
    }
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    const { expected, expectedSize } = this.#options;
    if (expectedSize !== undefined && this.#digester.bytes !== expectedSize) {
      return callback(new SizeMismatchError(expectedSize, this.#digester.bytes));
    }
    const actual = this.#digester.digest();
    if (expected !== undefined && actual.value !== expected.value) {
      return callback(new DigestMismatchError(expected.value, actual.value));
    }
    callback();
  }
}
