import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { digestFromHex, digestOf, parseDigest } from '@kraken/oci-content';
import { blobKey } from '../keys/blob-key.js';
import { createContentStore, type ContentStore } from './content-store.js';
import { createFilesystemBackend, FILESYSTEM_TEMP_DIR } from '../backends/filesystem/filesystem-backend.js';
import type { StorageBackend } from '../storage-backend.js';
import {
  failingStream,
  generatedSha256,
  generatedStream,
  readAll,
  sha256OfStream,
  stallingStream,
} from '../testing/generated-stream.js';

const body = (s: string) => Readable.from([Buffer.from(s)]);

describe('content store', () => {
  let root: string;
  let backend: StorageBackend;
  let store: ContentStore;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'kraken-content-store-'));
    backend = createFilesystemBackend({ root });
    store = createContentStore({ backend });
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  const nothingStored = async () => {
    expect((await backend.list()).keys).toEqual([]);
    const temp = await readdir(join(root, FILESYSTEM_TEMP_DIR)).catch(() => []);
    expect(temp).toEqual([]);
  };

  it('lays blobs out by algorithm and hex shard', () => {
    const digest = digestOf('x');
    expect(blobKey(digest)).toBe(`blobs/sha256/${digest.hex.slice(0, 2)}/${digest.hex}`);
    const sha512 = digestOf('x', 'sha512');
    expect(blobKey(sha512)).toBe(`blobs/sha512/${sha512.hex.slice(0, 2)}/${sha512.hex}`);
  });

  it('stores a verified blob under its digest', async () => {
    const digest = digestOf('layer content');
    expect(await store.write(digest, body('layer content'))).toEqual({ size: 13, created: true });
    expect(await store.stat(digest)).toEqual({ size: 13 });
    expect((await backend.stat(blobKey(digest)))?.size).toBe(13);
    expect((await readAll(await store.read(digest))).toString()).toBe('layer content');
    expect((await readAll(await store.read(digest, { start: 6, end: 12 }))).toString()).toBe('content');
  });

  it('refuses content that does not match the digest and stores nothing', async () => {
    const digest = digestOf('expected');
    await expect(store.write(digest, body('something else'))).rejects.toMatchObject({
      code: 'KRAKEN_DIGEST_MISMATCH',
    });
    expect(await store.stat(digest)).toBeUndefined();
    await nothingStored();
  });

  it('enforces a declared size and a size cap', async () => {
    const digest = digestOf('twelve bytes');
    await expect(store.write(digest, body('twelve bytes'), { size: 11 })).rejects.toMatchObject({
      code: 'KRAKEN_SIZE_MISMATCH',
    });
    await expect(store.write(digest, body('twelve bytes'), { size: 13 })).rejects.toMatchObject({
      code: 'KRAKEN_SIZE_MISMATCH',
    });
    await expect(store.write(digest, body('twelve bytes'), { maxSize: 5 })).rejects.toMatchObject({
      code: 'KRAKEN_CONTENT_TOO_LARGE',
    });
    await nothingStored();
    expect(await store.write(digest, body('twelve bytes'), { size: 12, maxSize: 12 })).toEqual({
      size: 12,
      created: true,
    });
  });

  it('stores nothing when the source fails or the write is aborted', async () => {
    const digest = digestOf('never');
    await expect(store.write(digest, failingStream(1000))).rejects.toThrow('source failed');
    const controller = new AbortController();
    await expect(
      store.write(
        digest,
        stallingStream(1000, () => controller.abort()),
        { signal: controller.signal },
      ),
    ).rejects.toMatchObject({ name: 'AbortError' });
    await nothingStored();
  });

  it('deduplicates a blob that is already stored but still verifies the upload', async () => {
    const digest = digestOf('dup');
    await store.write(digest, body('dup'));
    expect(await store.write(digest, body('dup'))).toEqual({ size: 3, created: false });
    await expect(store.write(digest, body('bad'))).rejects.toMatchObject({ code: 'KRAKEN_DIGEST_MISMATCH' });
    expect((await readAll(await store.read(digest))).toString()).toBe('dup');
  });

  it('lets concurrent writers of one digest all succeed with one blob', async () => {
    const content = 'raced content '.repeat(10_000);
    const digest = digestOf(content);
    const results = await Promise.all(
      Array.from({ length: 8 }, () => store.write(digest, Readable.from([Buffer.from(content)]))),
    );
    expect(results.every((r) => r.size === content.length)).toBe(true);
    expect((await readAll(await store.read(digest))).toString()).toBe(content);
    expect((await store.list()).digests.map((d) => d.value)).toEqual([digest.value]);
    expect(await readdir(join(root, FILESYSTEM_TEMP_DIR))).toEqual([]);
  });

  it('reports a missing blob as undefined and ObjectNotFoundError', async () => {
    const digest = digestOf('absent');
    expect(await store.stat(digest)).toBeUndefined();
    await expect(store.read(digest)).rejects.toMatchObject({ code: 'KRAKEN_OBJECT_NOT_FOUND' });
    expect(await store.delete(digest)).toBe(false);
  });

  it('deletes blobs', async () => {
    const digest = digestOf('to delete');
    await store.write(digest, body('to delete'));
    expect(await store.delete(digest)).toBe(true);
    expect(await store.stat(digest)).toBeUndefined();
  });

  it('lists digests page by page, skipping foreign objects', async () => {
    const digests = Array.from({ length: 7 }, (_, i) => digestOf(`blob ${i}`));
    for (const [i, d] of digests.entries()) await store.write(d, body(`blob ${i}`));
    const big = digestOf('sha512 blob', 'sha512');
    await store.write(big, body('sha512 blob'));
    await backend.write('blobs/sha256/zz/not-a-digest', body('junk'));
    await backend.write('other/thing', body('junk'));

    const seen: string[] = [];
    let token: string | undefined;
    do {
      const page = await store.list({
        algorithm: 'sha256',
        limit: 3,
        ...(token === undefined ? {} : { continuationToken: token }),
      });
      seen.push(...page.digests.map((d) => d.value));
      token = page.continuationToken;
    } while (token !== undefined);
    expect(seen).toEqual(digests.map((d) => d.value).sort());
    expect((await store.list()).digests.map((d) => d.value)).toContain(big.value);
    expect((await store.list({ algorithm: 'sha512' })).digests).toEqual([parseDigest(big.value)]);
  });

  it('streams and verifies a large blob without holding it', { timeout: 120_000 }, async () => {
    const size = 64 * 1024 * 1024 + 123;
    const digest = digestFromHex('sha256', generatedSha256(size));
    expect(await store.write(digest, generatedStream(size), { size })).toEqual({ size, created: true });
    expect(await sha256OfStream(await store.read(digest))).toEqual({ hex: digest.hex, bytes: size });
  });

  it('checks the backend', async () => {
    await expect(store.check()).resolves.toBeUndefined();
    expect(store.name).toBe(backend.name);
  });
});
