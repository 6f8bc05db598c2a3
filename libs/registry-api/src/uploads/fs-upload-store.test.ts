import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { digestOf, DigestMismatchError, type Digest } from '@kraken/oci-content';
import { RangeInvalidError, UploadInvalidError, UploadUnknownError } from '../errors.js';
import { createFsUploadStore, type FsUploadStoreOptions } from './fs-upload-store.js';
import type { UploadStore, VerifiedUpload } from './upload-store.js';

const REPO = 'team/app';

async function collect(blob: VerifiedUpload): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of blob.open()) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe('fs upload store', () => {
  let dir: string;
  let time: number;
  let store: UploadStore;
  const open = (options: Partial<FsUploadStoreOptions> = {}) =>
    createFsUploadStore({ dir, now: () => time, ttlSeconds: 60, ...options });

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kraken-uploads-'));
    // Leftover files are aged by their real mtime, so the test clock starts at real time.
    time = Date.now();
    store = open();
  });
  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function commitAll(id: string, digest: Digest, target = store): Promise<Buffer> {
    let content: Buffer | undefined;
    await target.complete(REPO, id, digest, async (blob) => {
      content = await collect(blob);
      // open() may be called more than once while committing.
      expect((await collect(blob)).equals(content)).toBe(true);
    });
    return content ?? Buffer.alloc(0);
  }

  it('creates unguessable sessions and appends chunks in order', async () => {
    const a = await store.create(REPO);
    const b = await store.create(REPO);
    expect(a.id).not.toBe(b.id);
    expect(a.id).toMatch(/^[0-9a-f-]{36}$/);
    const one = await store.append(REPO, a.id, Readable.from([Buffer.from('hello ')]), { offset: 0 });
    expect(one).toMatchObject({ bytes: 6, session: { offset: 6 } });
    await store.append(REPO, a.id, Readable.from([Buffer.from('world')]), { offset: 6, length: 5 });
    const content = await commitAll(a.id, digestOf('hello world'));
    expect(content.toString()).toBe('hello world');
    expect(await store.get(REPO, a.id)).toBeUndefined();
    expect((await readdir(dir)).filter((f) => f.startsWith(a.id))).toEqual([]);
  });

  it('rejects a chunk at the wrong offset with the current size', async () => {
    const s = await store.create(REPO);
    await store.append(REPO, s.id, Readable.from([Buffer.from('abc')]));
    const err = await store
      .append(REPO, s.id, Readable.from([Buffer.from('x')]), { offset: 5 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RangeInvalidError);
    expect((err as RangeInvalidError).size).toBe(3);
  });

  it('rolls a failed chunk back to the previous offset and still verifies the digest', async () => {
    const s = await store.create(REPO);
    await store.append(REPO, s.id, Readable.from([Buffer.from('good ')]));
    const body = new PassThrough();
    const pending = store.append(REPO, s.id, body, { length: 100 });
    body.write(Buffer.from('partial'));
    body.destroy(new Error('client went away'));
    await expect(pending).rejects.toThrow('client went away');
    expect((await store.get(REPO, s.id))?.offset).toBe(5);
    // Declared length not met: also rolled back.
    await expect(
      store.append(REPO, s.id, Readable.from([Buffer.from('short')]), { length: 9 }),
    ).rejects.toThrow(/expected 9/);
    await store.append(REPO, s.id, Readable.from([Buffer.from('data')]));
    expect((await commitAll(s.id, digestOf('good data'))).toString()).toBe('good data');
  });

  it('enforces the upload cap while streaming', async () => {
    const s = await store.create(REPO);
    await expect(
      store.append(REPO, s.id, Readable.from([Buffer.alloc(600), Buffer.alloc(600)]), {
        maxTotalBytes: 1000,
      }),
    ).rejects.toMatchObject({ code: 'KRAKEN_CONTENT_TOO_LARGE' });
    expect((await store.get(REPO, s.id))?.offset).toBe(0);
  });

  it('allows one writer at a time', async () => {
    const s = await store.create(REPO);
    const slow = new PassThrough();
    const first = store.append(REPO, s.id, slow);
    await vi.waitFor(async () => {
      await expect(store.append(REPO, s.id, Readable.from([Buffer.from('x')]))).rejects.toBeInstanceOf(
        UploadInvalidError,
      );
    });
    slow.end(Buffer.from('done'));
    await expect(first).resolves.toMatchObject({ bytes: 4 });
  });

  it('cancels a session, aborting a write in progress', async () => {
    const s = await store.create(REPO);
    const slow = new PassThrough();
    const writing = store.append(REPO, s.id, slow);
    slow.write(Buffer.from('some'));
    await vi.waitFor(async () => expect(await store.cancel(REPO, s.id)).toBe(true));
    await expect(writing).rejects.toBeInstanceOf(UploadUnknownError);
    expect(await store.get(REPO, s.id)).toBeUndefined();
    expect(await readdir(dir)).toEqual([]);
    expect(await store.cancel(REPO, s.id)).toBe(false);
  });

  it('discards a session whose content does not match, keeps one whose commit failed', async () => {
    const bad = await store.create(REPO);
    await store.append(REPO, bad.id, Readable.from([Buffer.from('abc')]));
    await expect(store.complete(REPO, bad.id, digestOf('xyz'), async () => undefined)).rejects.toBeInstanceOf(
      DigestMismatchError,
    );
    expect(await store.get(REPO, bad.id)).toBeUndefined();

    const flaky = await store.create(REPO);
    await store.append(REPO, flaky.id, Readable.from([Buffer.from('abc')]));
    await expect(
      store.complete(REPO, flaky.id, digestOf('abc'), async () => {
        throw new Error('backend down');
      }),
    ).rejects.toThrow('backend down');
    expect((await store.get(REPO, flaky.id))?.offset).toBe(3);
    expect((await commitAll(flaky.id, digestOf('abc'))).toString()).toBe('abc');
  });

  it('verifies with whichever algorithm the client closes with', async () => {
    const s = await store.create(REPO, { algorithm: 'sha512' });
    await store.append(REPO, s.id, Readable.from([Buffer.from('content')]));
    expect((await commitAll(s.id, digestOf('content', 'sha512'))).toString()).toBe('content');
    const t = await store.create(REPO, { algorithm: 'sha512' });
    await store.append(REPO, t.id, Readable.from([Buffer.from('content')]));
    expect((await commitAll(t.id, digestOf('content'))).toString()).toBe('content');
  });

  it('survives a restart: sessions are reloaded from disk and their hash recomputed', async () => {
    const s = await store.create(REPO);
    await store.append(REPO, s.id, Readable.from([Buffer.from('before ')]));
    await store.close();
    const restarted = open();
    expect(await restarted.get(REPO, s.id)).toMatchObject({ id: s.id, repo: REPO, offset: 7 });
    expect(await restarted.get('other/repo', s.id)).toBeUndefined();
    await restarted.append(REPO, s.id, Readable.from([Buffer.from('after')]), { offset: 7 });
    expect((await commitAll(s.id, digestOf('before after'), restarted)).toString()).toBe('before after');
    store = restarted;
  });

  it('expires idle sessions on access and when sweeping, including leftovers of a crash', async () => {
    const idle = await store.create(REPO);
    const active = await store.create(REPO);
    await writeFile(join(dir, 'orphan-0123456789abcdef.data'), 'x');
    await writeFile(join(dir, 'notes.txt'), 'not ours');
    time += 45_000;
    await store.append(REPO, active.id, Readable.from([Buffer.from('x')]));
    time += 30_000;
    expect(await store.get(REPO, idle.id)).toBeUndefined();
    expect(await store.get(REPO, active.id)).toBeDefined();

    // A fresh process that never saw these sessions finds them on disk.
    const other = open();
    time += 60_000;
    expect(await other.sweep()).toBe(2);
    expect((await readdir(dir)).sort()).toEqual(['notes.txt']);
  });

  it('sweeps at start and periodically after, until closed', async () => {
    const stale = await store.create(REPO);
    time += 61_000;
    const timers = { setInterval: vi.fn(setInterval), clearInterval: vi.fn(clearInterval) };
    const swept = open({ timers, sweepIntervalSeconds: 5 });
    swept.start();
    await vi.waitFor(async () => expect(await readdir(dir)).toEqual([]));
    expect(await store.get(REPO, stale.id)).toBeUndefined();
    swept.start();
    expect(timers.setInterval).toHaveBeenCalledTimes(1);
    expect(timers.setInterval.mock.calls[0]?.[1]).toBe(5000);
    await swept.close();
    await swept.close();
    expect(timers.clearInterval).toHaveBeenCalledTimes(1);
  });

  it('refuses new sessions beyond maxSessions with TOOMANYREQUESTS', async () => {
    const limited = open({ maxSessions: 2 });
    await limited.create(REPO);
    await limited.create(REPO);
    await expect(limited.create(REPO)).rejects.toMatchObject({ code: 'KRAKEN_REGISTRY_TOO_MANY_REQUESTS' });
    time += 61_000;
    await expect(limited.create(REPO)).resolves.toMatchObject({ offset: 0 });
  });

  it('ignores ids that are not session ids', async () => {
    for (const id of ['../../etc/passwd', 'short', '', 'a'.repeat(200)]) {
      expect(await store.get(REPO, id)).toBeUndefined();
      await expect(store.append(REPO, id, Readable.from([]))).rejects.toBeInstanceOf(UploadUnknownError);
    }
  });
});

describe('fs upload store ids', () => {
  it('never reuses or clobbers an existing session when ids collide', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kraken-uploads-'));
    try {
      const fixed = () => 'fixed-session-id-0001';
      const first = createFsUploadStore({ dir, randomId: fixed });
      const s = await first.create(REPO);
      await first.append(REPO, s.id, Readable.from([Buffer.from('kept')]));
      await expect(first.create(REPO)).rejects.toThrow(/unusable session id/);
      // Another process that does not know the session yet.
      const second = createFsUploadStore({ dir, randomId: fixed });
      await expect(second.create(REPO)).rejects.toMatchObject({ code: 'EEXIST' });
      expect((await first.get(REPO, s.id))?.offset).toBe(4);
      expect((await second.get(REPO, s.id))?.offset).toBe(4);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
