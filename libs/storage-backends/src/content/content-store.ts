/**
 * Content-addressed blobs over any StorageBackend, laid out as
 * `blobs/<algorithm>/<first 2 hex>/<hex>`. A write is hashed while it streams and the
 * backend only publishes it once the digest (and size, when declared) checked out, so
 * a blob is never visible under a digest it does not have. Writers of the same digest
 * may race freely: each streams to its own temp object and the content they publish
 * is identical, so the last rename simply wins.
 */
import { Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DigestVerifyStream, type Digest, type DigestAlgorithm } from '@kraken/oci-content';
import { KrakenError } from '@kraken/foundation';
import { blobKey, blobKeyPrefix, digestOfKey } from '../keys/blob-key.js';
import type { ByteRange, StorageBackend } from '../storage-backend.js';

export interface BlobStat {
  readonly size: number;
}

export interface BlobWriteOptions {
  /** Declared size; the write fails unless exactly this many bytes arrive. */
  readonly size?: number;
  /** Hard cap; the write fails as soon as more bytes arrive. */
  readonly maxSize?: number;
  readonly signal?: AbortSignal;
}

export interface BlobWriteResult {
  readonly size: number;
  /** False when the blob was already stored (the content was still verified). */
  readonly created: boolean;
}

export interface BlobListPage {
  readonly digests: Digest[];
  readonly continuationToken: string | undefined;
}

export interface ContentStore {
  /** The backend's name, for logs and readiness reports. */
  readonly name: string;
  stat(digest: Digest): Promise<BlobStat | undefined>;
  /** Streams the blob or an inclusive range of it; rejects with ObjectNotFoundError. */
  read(digest: Digest, range?: ByteRange): Promise<Readable>;
  /** Stores the stream under `digest` once verified; rejects (storing nothing) otherwise. */
  write(digest: Digest, source: Readable, options?: BlobWriteOptions): Promise<BlobWriteResult>;
  delete(digest: Digest): Promise<boolean>;
  /** Stored digests in key order, paginated; optionally of one algorithm only. */
  list(options?: {
    algorithm?: DigestAlgorithm;
    limit?: number;
    continuationToken?: string;
  }): Promise<BlobListPage>;
  check(signal?: AbortSignal): Promise<void>;
}

export function createContentStore(options: { backend: StorageBackend }): ContentStore {
  const { backend } = options;

  return {
    name: backend.name,

    async stat(digest) {
      const s = await backend.stat(blobKey(digest));
      return s === undefined ? undefined : { size: s.size };
    },

    read(digest, range) {
      return backend.read(blobKey(digest), range);
    },

    async write(digest, source, writeOptions = {}) {
      const verifier = new DigestVerifyStream({
        expected: digest,
        ...(writeOptions.size === undefined ? {} : { expectedSize: writeOptions.size }),
        ...(writeOptions.maxSize === undefined ? {} : { maxSize: writeOptions.maxSize }),
      });
      const existing = await backend.stat(blobKey(digest));
      if (existing !== undefined) {
        // Already stored: still verify what the caller sent, so a bad upload fails the
        // same way whether or not the blob exists, but skip the disk entirely.
        await pipeline(source, verifier, discard(), signalOption(writeOptions.signal));
        return { size: existing.size, created: false };
      }
      const feeding = pipeline(source, verifier, signalOption(writeOptions.signal));
      const storing = backend.write(blobKey(digest), verifier, signalOption(writeOptions.signal));
      // If the backend gives up before consuming the verifier, unblock the feeding side.
      storing.catch((err: unknown) => verifier.destroy(err instanceof Error ? err : new Error(String(err))));
      const [fed, stored] = await Promise.allSettled([feeding, storing]);
      // A verification error says more than the backend's "stream failed"; otherwise
      // the backend's own failure (disk full, ...) is the one to report.
      if (fed.status === 'rejected' && fed.reason instanceof KrakenError) throw fed.reason;
      if (stored.status === 'rejected') throw stored.reason;
      if (fed.status === 'rejected') throw fed.reason;
      return { size: stored.value.size, created: true };
    },

    delete(digest) {
      return backend.delete(blobKey(digest));
    },

    async list(listOptions = {}) {
      const page = await backend.list({
        prefix: blobKeyPrefix(listOptions.algorithm),
        ...(listOptions.limit === undefined ? {} : { limit: listOptions.limit }),
        ...(listOptions.continuationToken === undefined
          ? {}
          : { continuationToken: listOptions.continuationToken }),
      });
      const digests: Digest[] = [];
      for (const key of page.keys) {
        const digest = digestOfKey(key);
        // Foreign objects under blobs/ are skipped rather than failing the listing.
        if (digest !== undefined) digests.push(digest);
      }
      return { digests, continuationToken: page.continuationToken };
    },

    check(signal) {
      return backend.check(signal);
    },
  };
}

function discard(): Writable {
  return new Writable({
    write(_chunk, _encoding, callback) {
      callback();
    },
  });
}

function signalOption(signal: AbortSignal | undefined): { signal?: AbortSignal } {
  return signal === undefined ? {} : { signal };
}
