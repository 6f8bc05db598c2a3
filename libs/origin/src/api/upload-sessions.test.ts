import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { digestOf } from '@kraken/oci-content';
import { createContentStore, createFilesystemBackend, type ContentStore } from '@kraken/storage-backends';
import { readAll } from '@kraken/storage-backends/testing';
import { originLimitsSchema } from './limits.js';
import { createUploadSessions } from './upload-sessions.js';

describe('upload sessions', () => {
  let dir: string;
  let store: ContentStore;
  let now: number;
  const limits = originLimitsSchema.parse({ uploadTtlSeconds: 100 });
  const open = () => createUploadSessions({ dir: join(dir, 'uploads'), store, limits, now: () => now });
  const chunk = (s: string) => Readable.from([Buffer.from(s)]);

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kraken-upload-sessions-'));
    store = createContentStore({ backend: createFilesystemBackend({ root: join(dir, 'store') }) });
    now = 5_000_000;
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('survives a restart with its offset', async () => {
    const before = open();
    const id = await before.create();
    expect(await before.append(id, chunk('hello '))).toBe(6);
    const after = open();
    expect(await after.offset(id)).toBe(6);
    expect(await after.append(id, chunk('world'), { start: 6 })).toBe(11);
    await after.commit(id, digestOf('hello world'));
    expect((await readAll(await store.read(digestOf('hello world')))).toString()).toBe('hello world');
    await expect(after.offset(id)).rejects.toMatchObject({ code: 'KRAKEN_UPLOAD_NOT_FOUND' });
  });

  it('ignores stray files and refuses ids that are not upload ids', async () => {
    const sessions = open();
    await sessions.create();
    await writeFile(join(dir, 'uploads', 'stray.txt'), 'x');
    const reopened = open();
    await expect(reopened.offset('stray.txt')).rejects.toMatchObject({ code: 'KRAKEN_INVALID_REQUEST' });
    await expect(reopened.offset('../store')).rejects.toMatchObject({ code: 'KRAKEN_INVALID_REQUEST' });
    expect(await reopened.cancel('00000000-0000-0000-0000-000000000000')).toBe(false);
  });

  it('checks the announced chunk length', async () => {
    const sessions = open();
    const id = await sessions.create();
    await expect(sessions.append(id, chunk('abc'), { start: 0, length: 5 })).rejects.toMatchObject({
      code: 'KRAKEN_INVALID_REQUEST',
    });
    expect(await sessions.offset(id)).toBe(0);
  });

  it('sweeps sessions idle past the TTL, but not busy or fresh ones', async () => {
    const sessions = open();
    const old = await sessions.create();
    now += 60_000;
    const fresh = await sessions.create();
    now += 50_000;
    expect(await sessions.sweep()).toBe(1);
    await expect(sessions.offset(old)).rejects.toMatchObject({ code: 'KRAKEN_UPLOAD_NOT_FOUND' });
    expect(await sessions.offset(fresh)).toBe(0);
    expect(await readdir(join(dir, 'uploads'))).toEqual([fresh]);
    await sessions.append(fresh, chunk('touch'));
    now += 99_000;
    expect(await sessions.sweep()).toBe(0);
  });
});
