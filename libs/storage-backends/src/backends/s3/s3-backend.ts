/**
 * StorageBackend on an S3 bucket (AWS or S3-compatible, e.g. MinIO). Writes stream
 * through `@aws-sdk/lib-storage`'s multipart Upload, which holds at most a bounded
 * number of parts in memory; S3 makes an object visible only when its PutObject or
 * CompleteMultipartUpload succeeds, and a failed or aborted write aborts its multipart
 * upload, so nothing partial is ever listed. "Not found" (NoSuchKey, 404) is
 * ObjectNotFoundError; any other provider failure is StorageUnavailableError naming
 * the backend, with the SDK error as its cause.
 */
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type * as S3Sdk from '@aws-sdk/client-s3';
import type { S3Client, S3ClientConfig } from '@aws-sdk/client-s3';
import type { Upload as S3Upload } from '@aws-sdk/lib-storage';
import { KrakenError } from '@kraken/foundation';
import { bucketPrefix } from '../bucket-prefix.js';
import {
  InvalidKeyError,
  InvalidRangeError,
  ObjectNotFoundError,
  StorageUnavailableError,
} from '../../errors.js';
import { isWellFormedRange, rangeHeader } from '../byte-range.js';
import { isValidObjectKey, validateKeyPrefix, validateObjectKey } from '../../keys/object-key.js';
import type { S3BackendConfig } from './s3-config.js';
import type { ByteRange, ListOptions, ListPage, ObjectStat, StorageBackend } from '../../storage-backend.js';

/** Everything of the config but `type`; omitted fields take the config defaults. */
export type S3BackendOptions = Pick<S3BackendConfig, 'bucket'> &
  Partial<Omit<S3BackendConfig, 'type' | 'bucket'>>;

const MAX_PAGE = 1000; // ListObjectsV2's own maximum
const MAX_TOKEN_LENGTH = 4096;

export function createS3Backend(options: S3BackendOptions): StorageBackend {
  const { bucket } = options;
  const prefix = bucketPrefix(options.prefix ?? '');
  const name = `s3:${bucket}${prefix.base === '' ? '' : `/${prefix.base.slice(0, -1)}`}`;
  const partSize = options.partSizeBytes ?? 16 * 1024 * 1024;
  const queueSize = options.queueSize ?? 4;
  const config: S3ClientConfig = {
    region: options.region ?? 'us-east-1',
    forcePathStyle: options.forcePathStyle ?? false,
    maxAttempts: options.maxAttempts ?? 3,
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
    // A copy: the SDK annotates the credentials object it is given.
    ...(options.credentials === undefined ? {} : { credentials: { ...options.credentials } }),
  };
  // The SDK costs about half a second to import, so a process that never touches S3
  // never loads it. A failed load is not cached: the next operation tries again.
  let loading: Promise<LoadedSdk> | undefined;
  const sdk = (): Promise<LoadedSdk> =>
    (loading ??= loadSdk(config).catch((err: unknown) => {
      loading = undefined;
      throw new StorageUnavailableError(name, err);
    }));

  /** Maps the provider's failures: our typed errors and aborts pass through. */
  const unavailable = (err: unknown): Error =>
    err instanceof KrakenError || isAbort(err) ? (err as Error) : new StorageUnavailableError(name, err);

  async function head(key: string): Promise<ObjectStat | undefined> {
    try {
      const { s3, client } = await sdk();
      const res = await client.send(new s3.HeadObjectCommand({ Bucket: bucket, Key: prefix.nameOf(key) }));
      return { size: res.ContentLength ?? 0, modifiedAt: res.LastModified ?? new Date(0) };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw unavailable(err);
    }
  }

  async function sizeForRangeError(key: string, range: ByteRange): Promise<never> {
    const s = await head(key);
    if (s === undefined) throw new ObjectNotFoundError(key);
    throw new InvalidRangeError(key, range, s.size);
  }

  return {
    name,

    async stat(key: string): Promise<ObjectStat | undefined> {
      validateObjectKey(key);
      return head(key);
    },

    async read(key: string, range?: ByteRange): Promise<Readable> {
      validateObjectKey(key);
      if (range !== undefined && !isWellFormedRange(range)) return sizeForRangeError(key, range);
      try {
        const { s3, client } = await sdk();
        const res = await client.send(
          new s3.GetObjectCommand({
            Bucket: bucket,
            Key: prefix.nameOf(key),
            ...(range === undefined ? {} : { Range: rangeHeader(range) }),
          }),
        );
        if (!(res.Body instanceof Readable)) throw new Error('GetObject returned no Node.js stream');
        return res.Body;
      } catch (err) {
        if (isNotFound(err)) throw new ObjectNotFoundError(key);
        // S3 clamps an end past the object itself; only a start past it is refused.
        if (range !== undefined && statusOf(err) === 416) return sizeForRangeError(key, range);
        throw unavailable(err);
      }
    },

    async write(
      key: string,
      source: Readable,
      writeOptions: { signal?: AbortSignal } = {},
    ): Promise<ObjectStat> {
      validateObjectKey(key);
      const { signal } = writeOptions;
      signal?.throwIfAborted();
      // Until pipeline listens, a source failure must not go unhandled; pipeline then
      // sees the source already errored and rejects with its error.
      const ignore = () => {};
      source.on('error', ignore);
      let loaded: LoadedSdk;
      try {
        loaded = await sdk();
      } catch (err) {
        source.off('error', ignore);
        throw err;
      }
      const { client, Upload } = loaded;
      // The source goes through a PassThrough so that `pipeline` owns its errors and the
      // signal: either one destroys the body, the Upload's reader fails, and lib-storage
      // aborts the multipart upload before `done()` settles.
      const body = new PassThrough({ highWaterMark: 1024 * 1024 });
      const upload = new Upload({
        client,
        params: { Bucket: bucket, Key: prefix.nameOf(key), Body: body },
        partSize,
        queueSize,
        leavePartsOnError: false,
      });
      const uploading = upload.done().catch((err: unknown) => {
        // Nobody reads the body any more; unblock the pipeline.
        body.destroy();
        throw err;
      });
      const piping = pipeline(source, body, signal === undefined ? {} : { signal });
      source.off('error', ignore);
      const [piped, uploaded] = await Promise.allSettled([piping, uploading]);
      // The source's failure (or the abort) is the cause when it came first; the body
      // then carried that same error into the Upload.
      if (
        piped.status === 'rejected' &&
        (uploaded.status === 'fulfilled' || uploaded.reason === piped.reason)
      )
        throw piped.reason;
      if (uploaded.status === 'rejected') throw unavailable(uploaded.reason);
      if (piped.status === 'rejected') throw piped.reason;
      const s = await head(key);
      if (s === undefined) throw new StorageUnavailableError(name, new Error(`${key} missing after upload`));
      return s;
    },

    async list(listOptions: ListOptions = {}): Promise<ListPage> {
      const within = validateKeyPrefix(listOptions.prefix ?? '');
      const limit = Math.min(Math.max(1, Math.floor(listOptions.limit ?? MAX_PAGE)), MAX_PAGE);
      const token = listOptions.continuationToken;
      if (token !== undefined && (token.length === 0 || token.length > MAX_TOKEN_LENGTH))
        throw new InvalidKeyError(token, 'malformed continuation token');
      try {
        const { s3, client } = await sdk();
        const res = await client.send(
          new s3.ListObjectsV2Command({
            Bucket: bucket,
            Prefix: prefix.nameOf(within),
            MaxKeys: limit,
            ...(token === undefined ? {} : { ContinuationToken: token }),
          }),
        );
        const keys: string[] = [];
        for (const object of res.Contents ?? []) {
          const key = object.Key === undefined ? undefined : prefix.keyOf(object.Key);
          // Objects put into the bucket by other tools may have names no key can have.
          if (key !== undefined && isValidObjectKey(key)) keys.push(key);
        }
        const next = res.IsTruncated === true ? res.NextContinuationToken : undefined;
        return { keys, continuationToken: next };
      } catch (err) {
        throw unavailable(err);
      }
    },

    async delete(key: string): Promise<boolean> {
      validateObjectKey(key);
      // DeleteObject succeeds whether or not the key existed; HEAD first tells which.
      if ((await head(key)) === undefined) return false;
      try {
        const { s3, client } = await sdk();
        await client.send(new s3.DeleteObjectCommand({ Bucket: bucket, Key: prefix.nameOf(key) }));
        return true;
      } catch (err) {
        if (isNotFound(err)) return false;
        throw unavailable(err);
      }
    },

    async check(signal?: AbortSignal): Promise<void> {
      try {
        signal?.throwIfAborted();
        const { s3, client } = await sdk();
        await client.send(
          new s3.HeadBucketCommand({ Bucket: bucket }),
          signal === undefined ? {} : { abortSignal: signal },
        );
      } catch (err) {
        throw err instanceof StorageUnavailableError
          ? err
          : new StorageUnavailableError(name, describeFailure(err));
      }
    },

    async close(): Promise<void> {
      const loaded = loading;
      loading = undefined;
      if (loaded !== undefined) (await loaded.catch(() => undefined))?.client.destroy();
    },
  };
}

interface LoadedSdk {
  readonly s3: typeof S3Sdk;
  readonly Upload: typeof S3Upload;
  readonly client: S3Client;
}

async function loadSdk(config: S3ClientConfig): Promise<LoadedSdk> {
  const [s3, storage] = await Promise.all([import('@aws-sdk/client-s3'), import('@aws-sdk/lib-storage')]);
  return { s3, Upload: storage.Upload, client: new s3.S3Client(config) };
}

interface SdkError {
  readonly name?: string;
  readonly $metadata?: { readonly httpStatusCode?: number };
}

function statusOf(err: unknown): number | undefined {
  return (err as SdkError | null)?.$metadata?.httpStatusCode;
}

function isNotFound(err: unknown): boolean {
  const sdkName = (err as SdkError | null)?.name;
  // A missing bucket is a misconfiguration, not a missing object.
  if (sdkName === 'NoSuchBucket') return false;
  return sdkName === 'NoSuchKey' || sdkName === 'NotFound' || statusOf(err) === 404;
}

function isAbort(err: unknown): boolean {
  return (err as { name?: string } | null)?.name === 'AbortError';
}

/**
 * HEAD answers carry no error body, so the SDK names them only by status ("403",
 * "UnknownError"); say what the status means to whoever reads the readiness report.
 */
function describeFailure(err: unknown): unknown {
  const status = statusOf(err);
  if (status === 403) return new Error('access denied (HTTP 403): check the credentials', { cause: err });
  if (status === 404) return new Error('bucket not found (HTTP 404)', { cause: err });
  return err;
}
