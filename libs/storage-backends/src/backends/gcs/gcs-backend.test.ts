import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storageBackendSchema } from '../../routing/backend-config.js';
import { createBackend } from '../../routing/create-backend.js';
import { createGcsBackend, type GcsBackendOptions } from './gcs-backend.js';
import { describeStorageBackendConformance } from '../../testing/backend-conformance.js';
import {
  failingStream,
  generatedSha256,
  generatedStream,
  readAll,
  sha256OfStream,
} from '../../testing/generated-stream.js';
import { startGcsServer } from '../../testing/gcs-server.js';
import type { GcsServer } from '../../testing/gcs-server.js';

const BUCKET = 'kraken-conformance';
const CHUNK = 1024 * 1024;
let gcs: GcsServer;

beforeAll(async () => {
  gcs = await startGcsServer();
  await gcs.createBucket(BUCKET);
});
afterAll(async () => {
  await gcs?.stop();
});

const options = (prefix: string, overrides: Partial<GcsBackendOptions> = {}): GcsBackendOptions => ({
  bucket: BUCKET,
  prefix,
  endpoint: gcs.endpoint,
  projectId: 'kraken-test',
  chunkSizeBytes: CHUNK,
  maxRetries: 0,
  ...overrides,
});

/** Object names in the bucket, as the emulator lists them. */
async function objectNames(prefix: string): Promise<string[]> {
  const res = await fetch(`${gcs.endpoint}/storage/v1/b/${BUCKET}/o?prefix=${encodeURIComponent(prefix)}`);
  const body = (await res.json()) as { items?: { name: string }[] };
  return (body.items ?? []).map((item) => item.name);
}

describeStorageBackendConformance(
  'gcs (fake-gcs-server)',
  async () => {
    // One bucket for the file; each test gets its own prefix, so tests see only their keys.
    const prefix = `t-${randomUUID()}`;
    return {
      backend: createGcsBackend(options(prefix)),
      // Unfinished resumable sessions are not objects; nothing else could be left.
      leftovers: async () => [],
      unavailableBackends: () => [
        createGcsBackend(options(prefix, { endpoint: 'http://127.0.0.1:9' })),
        createGcsBackend(options(prefix, { bucket: 'no-such-bucket' })),
        createGcsBackend(options(prefix, { credentialsFile: join('/nonexistent', 'key.json') })),
      ],
      cleanup: async () => {},
    };
  },
  // Twenty 1 MiB resumable chunks.
  { largeObjectBytes: 20 * 1024 * 1024 },
);

describe('gcs backend specifics', () => {
  it('names itself by bucket and prefix and stores keys under the prefix', async () => {
    const backend = createGcsBackend(options('kraken/origin/'));
    await backend.write('blobs/x', Readable.from([Buffer.from('content')]));
    expect(backend.name).toBe(`gcs:${BUCKET}/kraken/origin`);
    expect(await objectNames('kraken/origin/')).toEqual(['kraken/origin/blobs/x']);
    expect(createGcsBackend({ bucket: BUCKET }).name).toBe(`gcs:${BUCKET}`);
  });

  it('leaves no object when a multi-chunk write fails after some chunks', async () => {
    const prefix = `t-${randomUUID()}`;
    const backend = createGcsBackend(options(prefix));
    await expect(backend.write('broken', failingStream(CHUNK * 3 + 5))).rejects.toThrow('source failed');
    expect(await backend.stat('broken')).toBeUndefined();
    expect(await objectNames(`${prefix}/`)).toEqual([]);
  });

  it('reads the version it stat-ed even when overwritten mid-read', async () => {
    const prefix = `t-${randomUUID()}`;
    const backend = createGcsBackend(options(prefix));
    const size = 3 * CHUNK;
    await backend.write('v', generatedStream(size));
    const reading = await backend.read('v');
    await backend.write('v', Readable.from([Buffer.from('replaced')]));
    // Either the pinned generation streams whole, or the stream fails: never a mix.
    const outcome = await sha256OfStream(reading).then(
      (r) => r,
      () => undefined,
    );
    if (outcome !== undefined) expect(outcome).toEqual({ hex: generatedSha256(size), bytes: size });
    expect((await readAll(await backend.read('v'))).toString()).toBe('replaced');
  });

  it('lists only valid keys under its prefix, skipping foreign object names', async () => {
    const prefix = `t-${randomUUID()}`;
    const foreign = createGcsBackend(options(''));
    await foreign.write(`${prefix}-sibling/k`, Readable.from([Buffer.from('x')]));
    const upload = await fetch(
      `${gcs.endpoint}/upload/storage/v1/b/${BUCKET}/o?uploadType=media&name=${encodeURIComponent(`${prefix}/has space`)}`,
      { method: 'POST', body: 'x' },
    );
    expect(upload.ok).toBe(true);
    const backend = createGcsBackend(options(prefix));
    await backend.write('ok', Readable.from([Buffer.from('x')]));
    expect(await backend.list()).toEqual({ keys: ['ok'], continuationToken: undefined });
  });

  it('accepts only service account key files, and reports a bad one from every operation', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kraken-gcs-key-'));
    try {
      const notAKey = join(dir, 'user.json');
      await writeFile(
        notAKey,
        JSON.stringify({ type: 'external_account', credential_source: { file: '/x' } }),
      );
      const badKey = join(dir, 'sa.json');
      await writeFile(
        badKey,
        JSON.stringify({ type: 'service_account', client_email: 'a@b.c', private_key: 'not a key' }),
      );
      const refused = createGcsBackend(options('p', { credentialsFile: notAKey }));
      await expect(refused.check()).rejects.toThrow(/not a service account key/);
      await expect(refused.stat('k')).rejects.toMatchObject({ code: 'KRAKEN_STORAGE_UNAVAILABLE' });
      await expect(refused.read('k')).rejects.toMatchObject({ code: 'KRAKEN_STORAGE_UNAVAILABLE' });
      // A well-formed key is used for every request, custom endpoint or not; this one cannot sign.
      const unsigned = createGcsBackend(options('p', { credentialsFile: badKey }));
      await expect(unsigned.check()).rejects.toMatchObject({ code: 'KRAKEN_STORAGE_UNAVAILABLE' });
      await expect(unsigned.stat('k')).rejects.toMatchObject({ code: 'KRAKEN_STORAGE_UNAVAILABLE' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('is built from the storage config with defaults', async () => {
    const schema = storageBackendSchema();
    expect(schema.parse({ type: 'gcs', bucket: 'my_bucket' })).toEqual({
      type: 'gcs',
      bucket: 'my_bucket',
      prefix: '',
      chunkSizeBytes: 16 * 1024 * 1024,
      maxRetries: 3,
    });
    expect(schema.safeParse({ type: 'gcs', bucket: 'Bad Bucket' }).success).toBe(false);
    expect(schema.safeParse({ type: 'gcs', bucket: 'b-b', prefix: '/abs' }).success).toBe(false);
    expect(schema.safeParse({ type: 'gcs', bucket: 'b-b', chunkSizeBytes: 300 * 1024 }).success).toBe(false);
    expect(schema.safeParse({ type: 'gcs', bucket: 'b-b', endpoint: 'ftp://x' }).success).toBe(false);
    const extra = schema.safeParse({ type: 'gcs', bucket: 'b-b', region: 'x' });
    expect(JSON.stringify(extra.error?.issues)).toContain('region');
    const backend = createBackend(schema.parse({ type: 'gcs', bucket: BUCKET, endpoint: gcs.endpoint }));
    expect(backend.name).toBe(`gcs:${BUCKET}`);
    await backend.check();
  });
});
