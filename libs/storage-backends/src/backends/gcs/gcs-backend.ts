/**
 * StorageBackend on a Google Cloud Storage bucket through `@google-cloud/storage`.
 * Writes are resumable uploads in chunks of `chunkSizeBytes` (the one chunk a write
 * buffers, retried on its own); GCS creates the object only when the final chunk
 * lands, so a failed or aborted write leaves no object, just an unfinished session
 * that GCS expires. Reads stat the object first, which gives "not found" and range
 * errors before any byte streams and pins the generation read, so an overwrite in
 * between cannot splice two versions. A 404 is ObjectNotFoundError; any other
 * provider failure is StorageUnavailableError naming the backend.
 */
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Bucket, File, FileMetadata, StorageOptions } from '@google-cloud/storage';
import { KrakenError } from '@kraken/foundation';
import { bucketPrefix } from '../bucket-prefix.js';
import {
  InvalidKeyError,
  InvalidRangeError,
  ObjectNotFoundError,
  StorageUnavailableError,
} from '../../errors.js';
import { serviceAccountAuth } from './gcs-auth.js';
import type { GcsBackendConfig } from './gcs-config.js';
import { isWellFormedRange } from '../byte-range.js';
import { isValidObjectKey, validateKeyPrefix, validateObjectKey } from '../../keys/object-key.js';
import type { ByteRange, ListOptions, ListPage, ObjectStat, StorageBackend } from '../../storage-backend.js';

/** Everything of the config but `type`; omitted fields take the config defaults. */
export type GcsBackendOptions = Pick<GcsBackendConfig, 'bucket'> &
  Partial<Omit<GcsBackendConfig, 'type' | 'bucket'>>;

const MAX_PAGE = 1000; // objects.list's own maximum
const MAX_TOKEN_LENGTH = 4096;

interface Described {
  readonly stat: ObjectStat;
  readonly generation: string | undefined;
}

export function createGcsBackend(options: GcsBackendOptions): StorageBackend {
  const prefix = bucketPrefix(options.prefix ?? '');
  const name = `gcs:${options.bucket}${prefix.base === '' ? '' : `/${prefix.base.slice(0, -1)}`}`;
  const chunkSize = options.chunkSizeBytes ?? 16 * 1024 * 1024;
  // The client library costs about half a second to import, so a process that never
  // touches GCS never loads it. A bad key file makes the backend unusable rather than
  // the process unable to start: every operation (and the readiness check) reports
  // it, and a failed open is not cached, so a fixed file is picked up.
  let opening: Promise<Bucket> | undefined;
  const usable = (): Promise<Bucket> =>
    (opening ??= openBucket(options).catch((err: unknown) => {
      opening = undefined;
      throw new StorageUnavailableError(name, err);
    }));

  const unavailable = (err: unknown): Error =>
    err instanceof KrakenError || isAbort(err) ? (err as Error) : new StorageUnavailableError(name, err);

  async function describe(key: string): Promise<Described | undefined> {
    try {
      const [metadata] = await (await usable()).file(prefix.nameOf(key)).getMetadata();
      return { stat: statOf(metadata), generation: generationOf(metadata) };
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw unavailable(err);
    }
  }

  return {
    name,

    async stat(key: string): Promise<ObjectStat | undefined> {
      validateObjectKey(key);
      return (await describe(key))?.stat;
    },

    async read(key: string, range?: ByteRange): Promise<Readable> {
      validateObjectKey(key);
      const object = await describe(key);
      if (object === undefined) throw new ObjectNotFoundError(key);
      const { size } = object.stat;
      if (range !== undefined && (!isWellFormedRange(range) || range.start >= size))
        throw new InvalidRangeError(key, range, size);
      const file = (await usable()).file(
        prefix.nameOf(key),
        object.generation === undefined ? {} : { generation: object.generation },
      );
      // Digests are verified above this layer (content store, read-through); hashing
      // again here would cost CPU per byte for nothing, and ranges cannot be hashed.
      return file.createReadStream({
        validation: false,
        decompress: false,
        ...(range === undefined || size === 0
          ? {}
          : { start: range.start, end: Math.min(range.end, size - 1) }),
      });
    },

    async write(
      key: string,
      source: Readable,
      writeOptions: { signal?: AbortSignal } = {},
    ): Promise<ObjectStat> {
      validateObjectKey(key);
      const { signal } = writeOptions;
      signal?.throwIfAborted();
      // The source's own failure is the caller's to see as it is, not "unavailable".
      // Listening from the start also keeps a failure while the client loads from
      // going unhandled; pipeline then sees the source already errored.
      let sourceError: unknown;
      const onSourceError = (err: unknown) => {
        sourceError ??= err;
      };
      source.once('error', onSourceError);
      let file: File;
      try {
        file = (await usable()).file(prefix.nameOf(key));
        await pipeline(
          source,
          file.createWriteStream({
            resumable: true,
            chunkSize,
            metadata: { contentType: 'application/octet-stream' },
          }),
          signal === undefined ? {} : { signal },
        );
      } catch (err) {
        throw err === sourceError ? err : unavailable(err);
      } finally {
        source.off('error', onSourceError);
      }
      // The upload's final answer carries the object's metadata.
      const { metadata } = file;
      if (metadata.size !== undefined && metadata.updated !== undefined) return statOf(metadata);
      const written = await describe(key);
      if (written === undefined)
        throw new StorageUnavailableError(name, new Error(`${key} missing after upload`));
      return written.stat;
    },

    async list(listOptions: ListOptions = {}): Promise<ListPage> {
      const within = validateKeyPrefix(listOptions.prefix ?? '');
      const limit = Math.min(Math.max(1, Math.floor(listOptions.limit ?? MAX_PAGE)), MAX_PAGE);
      const token = listOptions.continuationToken;
      if (token !== undefined && (token.length === 0 || token.length > MAX_TOKEN_LENGTH))
        throw new InvalidKeyError(token, 'malformed continuation token');
      try {
        const [files, next] = await (
          await usable()
        ).getFiles({
          prefix: prefix.nameOf(within),
          maxResults: limit,
          autoPaginate: false,
          ...(token === undefined ? {} : { pageToken: token }),
        });
        const keys: string[] = [];
        for (const file of files) {
          const key = prefix.keyOf(file.name);
          // Objects put into the bucket by other tools may have names no key can have.
          if (key !== undefined && isValidObjectKey(key)) keys.push(key);
        }
        const nextToken = (next as { pageToken?: unknown } | null | undefined)?.pageToken;
        return { keys, continuationToken: typeof nextToken === 'string' ? nextToken : undefined };
      } catch (err) {
        throw unavailable(err);
      }
    },

    async delete(key: string): Promise<boolean> {
      validateObjectKey(key);
      try {
        await (await usable()).file(prefix.nameOf(key)).delete();
        return true;
      } catch (err) {
        if (statusOf(err) === 404) return false;
        throw unavailable(err);
      }
    },

    async check(signal?: AbortSignal): Promise<void> {
      try {
        signal?.throwIfAborted();
        // The client takes no signal; the check stops waiting when it is aborted.
        await raceSignal(
          usable().then((bucket) => bucket.getMetadata()),
          signal,
        );
      } catch (err) {
        throw err instanceof StorageUnavailableError
          ? err
          : new StorageUnavailableError(name, describeFailure(err));
      }
    },

    async close(): Promise<void> {},
  };
}

async function openBucket(options: GcsBackendOptions): Promise<Bucket> {
  const auth =
    options.credentialsFile === undefined ? undefined : await serviceAccountAuth(options.credentialsFile);
  const projectId = options.projectId ?? auth?.projectId;
  const storageOptions: StorageOptions = {
    // The client reads `maxRetries: 0` as "use the default" (3); turning automatic
    // retries off is how zero is said.
    retryOptions: options.maxRetries === 0 ? { autoRetry: false } : { maxRetries: options.maxRetries ?? 3 },
    ...(projectId === undefined ? {} : { projectId }),
    ...(options.endpoint === undefined ? {} : { apiEndpoint: options.endpoint.replace(/\/$/, '') }),
    // With a custom endpoint the client sends no credentials unless told to.
    ...(auth === undefined ? {} : { authClient: auth.client, useAuthWithCustomEndpoint: true }),
  };
  const { Storage } = await import('@google-cloud/storage');
  return new Storage(storageOptions).bucket(options.bucket);
}

function statOf(metadata: FileMetadata): ObjectStat {
  const updated = metadata.updated ?? metadata.timeCreated;
  return {
    size: Number(metadata.size ?? 0),
    modifiedAt: updated === undefined ? new Date(0) : new Date(updated),
  };
}

function generationOf(metadata: FileMetadata): string | undefined {
  const { generation } = metadata;
  return generation === undefined || generation === null ? undefined : String(generation);
}

function statusOf(err: unknown): number | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

function isAbort(err: unknown): boolean {
  return (err as { name?: string } | null)?.name === 'AbortError';
}

function describeFailure(err: unknown): unknown {
  const status = statusOf(err);
  if (status === 401 || status === 403)
    return new Error(`access denied (HTTP ${status}): check the credentials`, { cause: err });
  if (status === 404) return new Error('bucket not found (HTTP 404)', { cause: err });
  return err;
}

function raceSignal<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return work;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
