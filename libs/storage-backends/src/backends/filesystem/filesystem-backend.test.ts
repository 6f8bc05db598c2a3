import { chmod, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { describeStorageBackendConformance } from '../../testing/backend-conformance.js';
import { readAll } from '../../testing/generated-stream.js';
import { createFilesystemBackend, FILESYSTEM_TEMP_DIR } from './filesystem-backend.js';
import type { StorageBackend } from '../../storage-backend.js';

async function tempRoot(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'kraken-fs-backend-'));
}

async function leftoversIn(root: string): Promise<string[]> {
  try {
    return await readdir(join(root, FILESYSTEM_TEMP_DIR));
  } catch {
    return [];
  }
}

describeStorageBackendConformance('filesystem', async () => {
  const root = await tempRoot();
  return {
    backend: createFilesystemBackend({ root }),
    leftovers: () => leftoversIn(root),
    // A root below a regular file can never be created.
    unavailableBackends: () => [createFilesystemBackend({ root: join('/dev/null', 'kraken') })],
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
});

describe('filesystem backend specifics', () => {
  let root: string;
  let backend: StorageBackend;
  beforeEach(async () => {
    root = await tempRoot();
    backend = createFilesystemBackend({ root });
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('stores objects as plain files under the root', async () => {
    await backend.write('blobs/sha256/ab/abcd', Readable.from([Buffer.from('content')]));
    expect(await readFile(join(root, 'blobs', 'sha256', 'ab', 'abcd'), 'utf8')).toBe('content');
    expect(backend.name).toBe(`fs:${root}`);
  });

  it('reserves the temp directory name', async () => {
    await expect(backend.stat(`${FILESYSTEM_TEMP_DIR}/x`)).rejects.toMatchObject({
      code: 'KRAKEN_INVALID_KEY',
    });
    await expect(backend.write(FILESYSTEM_TEMP_DIR, Readable.from([Buffer.from('x')]))).rejects.toMatchObject(
      {
        code: 'KRAKEN_INVALID_KEY',
      },
    );
    await backend.check();
    await backend.write('visible', Readable.from([Buffer.from('x')]));
    expect((await backend.list()).keys).toEqual(['visible']);
  });

  it('lists nothing (rather than failing) before the root exists', async () => {
    const missing = createFilesystemBackend({ root: join(root, 'not-yet') });
    expect(await missing.list()).toEqual({ keys: [], continuationToken: undefined });
    expect(await missing.stat('a')).toBeUndefined();
  });

  it('reports a key under an existing object as a conflict', async () => {
    await backend.write('a', Readable.from([Buffer.from('x')]));
    await expect(backend.write('a/b', Readable.from([Buffer.from('y')]))).rejects.toMatchObject({
      code: 'KRAKEN_KEY_CONFLICT',
    });
    await backend.write('d/e', Readable.from([Buffer.from('y')]));
    await expect(backend.write('d', Readable.from([Buffer.from('z')]))).rejects.toMatchObject({
      code: 'KRAKEN_KEY_CONFLICT',
    });
    expect(await leftoversIn(root)).toEqual([]);
  });

  it('ignores files planted in the temp directory when listing', async () => {
    await backend.check();
    await writeFile(join(root, FILESYSTEM_TEMP_DIR, 'partial'), 'half');
    expect((await backend.list()).keys).toEqual([]);
  });

  it('fails its readiness check when the root cannot be written', async () => {
    const file = join(root, 'a-file');
    await writeFile(file, 'not a directory');
    await expect(createFilesystemBackend({ root: file }).check()).rejects.toMatchObject({
      code: 'KRAKEN_STORAGE_UNAVAILABLE',
    });
    const readOnly = join(root, 'ro');
    await createFilesystemBackend({ root: readOnly }).check();
    await chmod(readOnly, 0o500);
    await chmod(join(readOnly, FILESYSTEM_TEMP_DIR), 0o500);
    try {
      // root bypasses permissions; only assert when the process is an ordinary user.
      if (process.getuid?.() !== 0) {
        await expect(createFilesystemBackend({ root: readOnly }).check()).rejects.toMatchObject({
          code: 'KRAKEN_STORAGE_UNAVAILABLE',
        });
      }
    } finally {
      await chmod(join(readOnly, FILESYSTEM_TEMP_DIR), 0o700);
      await chmod(readOnly, 0o700);
    }
  });

  it('follows no traversal even through a configured relative root', async () => {
    const outside = join(root, 'outside');
    await writeFile(outside, 'secret');
    const inner = createFilesystemBackend({ root: join(root, 'inner') });
    await expect(inner.read('../outside')).rejects.toMatchObject({ code: 'KRAKEN_INVALID_KEY' });
    await expect(inner.read('..%2Foutside')).rejects.toMatchObject({ code: 'KRAKEN_INVALID_KEY' });
  });

  it('serves objects through a symlinked root', async () => {
    const real = join(root, 'real');
    const link = join(root, 'link');
    await createFilesystemBackend({ root: real }).write('k', Readable.from([Buffer.from('via link')]));
    await symlink(real, link);
    expect((await readAll(await createFilesystemBackend({ root: link }).read('k'))).toString()).toBe(
      'via link',
    );
  });
});
