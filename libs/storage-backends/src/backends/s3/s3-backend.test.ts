import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storageBackendSchema } from '../../routing/backend-config.js';
import { createBackend } from '../../routing/create-backend.js';
import { createS3Backend, type S3BackendOptions } from './s3-backend.js';
import { describeStorageBackendConformance } from '../../testing/backend-conformance.js';
import { failingStream, generatedStream, readAll, stallingStream } from '../../testing/generated-stream.js';
import { startMinio } from '../../testing/minio-server.js';
import type { MinioServer } from '../../testing/minio-server.js';

const BUCKET = 'kraken-conformance';
const PART = 5 * 1024 * 1024;
let minio: MinioServer;
let admin: S3Client;

beforeAll(async () => {
  minio = await startMinio();
  await minio.createBucket(BUCKET);
  admin = new S3Client({
    endpoint: minio.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { ...minio.credentials },
  });
});
afterAll(async () => {
  admin?.destroy();
  await minio?.stop();
});

const options = (prefix: string, overrides: Partial<S3BackendOptions> = {}): S3BackendOptions => ({
  bucket: BUCKET,
  prefix,
  endpoint: minio.endpoint,
  forcePathStyle: true,
  credentials: minio.credentials,
  partSizeBytes: PART,
  maxAttempts: 1,
  ...overrides,
});

/** Multipart uploads begun under `prefix` and neither completed nor aborted. */
async function openUploads(prefix: string): Promise<string[]> {
  // MinIO matches ListMultipartUploads' Prefix against whole object names only, so
  // list the bucket's uploads and filter here.
  const res = await admin.send(new ListMultipartUploadsCommand({ Bucket: BUCKET }));
  return (res.Uploads ?? [])
    .filter((u) => u.Key?.startsWith(prefix) === true)
    .map((u) => `${u.Key ?? ''} (upload ${u.UploadId ?? ''})`);
}

describeStorageBackendConformance(
  's3 (MinIO)',
  async () => {
    // One bucket for the file; each test gets its own prefix, so tests see only their keys.
    const prefix = `t-${randomUUID()}`;
    return {
      backend: createS3Backend(options(prefix)),
      leftovers: () => openUploads(`${prefix}/`),
      unavailableBackends: () => [
        createS3Backend(
          options(prefix, { credentials: { accessKeyId: 'nobody', secretAccessKey: 'wrong-secret' } }),
        ),
        createS3Backend(options(prefix, { endpoint: 'http://127.0.0.1:9' })),
        createS3Backend(options(prefix, { bucket: 'no-such-bucket' })),
      ],
      cleanup: async () => {},
    };
  },
  // Eight 5 MiB parts: a real multipart upload, with parts in flight concurrently.
  { largeObjectBytes: 40 * 1024 * 1024 },
);

describe('s3 backend specifics', () => {
  it('names itself by bucket and prefix and stores keys under the prefix', async () => {
    const backend = createS3Backend(options('kraken/origin/'));
    try {
      expect(backend.name).toBe(`s3:${BUCKET}/kraken/origin`);
      await backend.write('blobs/x', Readable.from([Buffer.from('content')]));
      const head = await admin.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'kraken/origin/blobs/x' }));
      expect(head.ContentLength).toBe(7);
      expect(createS3Backend({ bucket: BUCKET }).name).toBe(`s3:${BUCKET}`);
    } finally {
      await backend.close();
    }
  });

  it('uses multipart uploads for objects larger than one part', async () => {
    const prefix = `t-${randomUUID()}`;
    const backend = createS3Backend(options(prefix));
    try {
      await backend.write('big', generatedStream(PART * 2 + 1));
      const head = await admin.send(new HeadObjectCommand({ Bucket: BUCKET, Key: `${prefix}/big` }));
      // A multipart object's ETag is "<md5 of part md5s>-<part count>".
      expect(head.ETag).toMatch(/-3"$/);
    } finally {
      await backend.close();
    }
  });

  it('aborts the multipart upload of a write whose source fails after some parts', async () => {
    const prefix = `t-${randomUUID()}`;
    const backend = createS3Backend(options(prefix));
    try {
      await expect(backend.write('broken', failingStream(PART * 2 + 1024))).rejects.toThrow('source failed');
      expect(await backend.stat('broken')).toBeUndefined();
      expect(await openUploads(`${prefix}/`)).toEqual([]);
    } finally {
      await backend.close();
    }
  });

  it('aborts the multipart upload of a write aborted after some parts', async () => {
    const prefix = `t-${randomUUID()}`;
    const backend = createS3Backend(options(prefix));
    const controller = new AbortController();
    try {
      // Two parts' worth, then the source stalls; abort once the multipart upload exists.
      const source = stallingStream(PART * 2 + 1024, () => {});
      const writing = backend.write('aborted', source, { signal: controller.signal });
      const deadline = Date.now() + 10_000;
      while ((await openUploads(`${prefix}/`)).length === 0 && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 20));
      expect(await openUploads(`${prefix}/`)).toHaveLength(1);
      controller.abort();
      await expect(writing).rejects.toMatchObject({ name: 'AbortError' });
      expect(await backend.stat('aborted')).toBeUndefined();
      expect(await openUploads(`${prefix}/`)).toEqual([]);
    } finally {
      await backend.close();
    }
  });

  it('lists only valid keys under its prefix, skipping foreign object names', async () => {
    const prefix = `t-${randomUUID()}`;
    await admin.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${prefix}/has space`, Body: 'x' }));
    await admin.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${prefix}-sibling/k`, Body: 'x' }));
    await admin.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${prefix}/ok`, Body: 'x' }));
    const backend = createS3Backend(options(prefix));
    try {
      expect(await backend.list()).toEqual({ keys: ['ok'], continuationToken: undefined });
      expect((await readAll(await backend.read('ok'))).toString()).toBe('x');
    } finally {
      await backend.close();
    }
  });

  it('rejects a prefix that is not made of key segments', () => {
    expect(() => createS3Backend({ bucket: BUCKET, prefix: '../up' })).toThrow(/invalid object key/);
    expect(() => createS3Backend({ bucket: BUCKET, prefix: '/abs' })).toThrow(/invalid object key/);
  });

  it('is built from the storage config with defaults', async () => {
    const schema = storageBackendSchema();
    expect(schema.parse({ type: 's3', bucket: 'my-bucket' })).toEqual({
      type: 's3',
      bucket: 'my-bucket',
      prefix: '',
      region: 'us-east-1',
      forcePathStyle: false,
      partSizeBytes: 16 * 1024 * 1024,
      queueSize: 4,
      maxAttempts: 3,
    });
    expect(schema.safeParse({ type: 's3', bucket: 'Bad_Bucket' }).success).toBe(false);
    const badPrefix = schema.safeParse({ type: 's3', bucket: 'b-b', prefix: 'a/../b' });
    expect(JSON.stringify(badPrefix.error?.issues)).toContain('prefix');
    expect(schema.parse({ type: 's3', bucket: 'b-b', prefix: 'a/b/' })).toMatchObject({ prefix: 'a/b/' });
    expect(schema.safeParse({ type: 's3', bucket: 'b-b', partSizeBytes: 1024 }).success).toBe(false);
    expect(schema.safeParse({ type: 's3', bucket: 'b-b', credentials: { accessKeyId: 'a' } }).success).toBe(
      false,
    );
    const extra = schema.safeParse({ type: 's3', bucket: 'b-b', root: '/x' });
    expect(JSON.stringify(extra.error?.issues)).toContain('root');
    const backend = createBackend(
      schema.parse({
        type: 's3',
        bucket: BUCKET,
        endpoint: minio.endpoint,
        forcePathStyle: true,
        credentials: minio.credentials,
      }),
    );
    try {
      expect(backend.name).toBe(`s3:${BUCKET}`);
      await backend.check();
    } finally {
      await backend.close();
    }
  });
});
