/**
 * The StorageBackend contract as a reusable vitest suite. Every backend runs it, so
 * the origin can rely on the same behaviour (atomic writes, one "not found", lexical
 * pagination, key validation) whatever stores its blobs.
 */
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StorageBackend } from '../storage-backend.js';
import {
  failingStream,
  generatedSha256,
  generatedStream,
  readAll,
  sha256OfStream,
  stallingStream,
} from './generated-stream.js';

export interface BackendHarness {
  readonly backend: StorageBackend;
  /** Names of in-progress/temporary artifacts the backend left behind (should be none). */
  leftovers(): Promise<string[]>;
  cleanup(): Promise<void>;
}

/** Keys every backend must refuse before touching storage. */
export const UNSAFE_KEYS: readonly string[] = [
  '',
  '.',
  '..',
  '../escape',
  'a/../../escape',
  'a/./b',
  '/absolute',
  'a//b',
  'a/',
  'a\\b',
  '..\\escape',
  'a b',
  'a/%2e%2e/b',
  'caf\u00e9',
  'nul\u0000byte',
  'x'.repeat(2000),
];

export interface ConformanceOptions {
  /** Size of the streaming test object (default 64 MiB). */
  readonly largeObjectBytes?: number;
}

export function describeStorageBackendConformance(
  name: string,
  createHarness: () => Promise<BackendHarness>,
  options: ConformanceOptions = {},
): void {
  describe(`StorageBackend conformance: ${name}`, () => {
    let harness: BackendHarness;
    let backend: StorageBackend;

    beforeEach(async () => {
      harness = await createHarness();
      backend = harness.backend;
    });
    afterEach(async () => {
      await backend.close();
      await harness.cleanup();
    });

    const put = (key: string, content: string | Buffer) =>
      backend.write(key, Readable.from([Buffer.from(content)]));

    it('writes, stats and reads an object', async () => {
      const written = await put('a/b/object', 'hello world');
      expect(written.size).toBe(11);
      const stat = await backend.stat('a/b/object');
      expect(stat?.size).toBe(11);
      expect(stat?.modifiedAt).toBeInstanceOf(Date);
      expect((await readAll(await backend.read('a/b/object'))).toString()).toBe('hello world');
    });

    it('stores an empty object', async () => {
      await put('empty', '');
      expect((await backend.stat('empty'))?.size).toBe(0);
      expect((await readAll(await backend.read('empty'))).length).toBe(0);
    });

    it('reports a missing object as undefined from stat and ObjectNotFoundError from read', async () => {
      expect(await backend.stat('missing/key')).toBeUndefined();
      await expect(backend.read('missing/key')).rejects.toMatchObject({ code: 'KRAKEN_OBJECT_NOT_FOUND' });
    });

    it('does not treat a key prefix (directory) as an object', async () => {
      await put('dir/child', 'x');
      expect(await backend.stat('dir')).toBeUndefined();
      await expect(backend.read('dir')).rejects.toMatchObject({ code: 'KRAKEN_OBJECT_NOT_FOUND' });
      expect(await backend.delete('dir')).toBe(false);
    });

    it('reads inclusive byte ranges and clamps the end', async () => {
      await put('ranged', '0123456789');
      expect((await readAll(await backend.read('ranged', { start: 2, end: 5 }))).toString()).toBe('2345');
      expect((await readAll(await backend.read('ranged', { start: 9, end: 9 }))).toString()).toBe('9');
      expect((await readAll(await backend.read('ranged', { start: 7, end: 100 }))).toString()).toBe('789');
    });

    it('rejects unsatisfiable ranges', async () => {
      await put('ranged', '0123456789');
      for (const range of [
        { start: 10, end: 12 },
        { start: 5, end: 4 },
        { start: -1, end: 3 },
        { start: 0.5, end: 3 },
      ]) {
        await expect(backend.read('ranged', range)).rejects.toMatchObject({ code: 'KRAKEN_INVALID_RANGE' });
      }
      await expect(backend.read('nope', { start: 0, end: 1 })).rejects.toMatchObject({
        code: 'KRAKEN_OBJECT_NOT_FOUND',
      });
    });

    it('overwrites an object with new content', async () => {
      await put('k', 'first');
      await put('k', 'second!');
      expect((await readAll(await backend.read('k'))).toString()).toBe('second!');
    });

    it('deletes objects and reports missing ones', async () => {
      await put('del/me', 'x');
      expect(await backend.delete('del/me')).toBe(true);
      expect(await backend.stat('del/me')).toBeUndefined();
      expect(await backend.delete('del/me')).toBe(false);
    });

    it('refuses unsafe keys in every operation', async () => {
      for (const key of UNSAFE_KEYS) {
        await expect(backend.stat(key), key).rejects.toMatchObject({ code: 'KRAKEN_INVALID_KEY' });
        await expect(backend.read(key), key).rejects.toMatchObject({ code: 'KRAKEN_INVALID_KEY' });
        await expect(backend.delete(key), key).rejects.toMatchObject({ code: 'KRAKEN_INVALID_KEY' });
        await expect(backend.write(key, Readable.from([Buffer.from('x')])), key).rejects.toMatchObject({
          code: 'KRAKEN_INVALID_KEY',
        });
      }
      await expect(backend.list({ prefix: '../' })).rejects.toMatchObject({ code: 'KRAKEN_INVALID_KEY' });
      await expect(backend.list({ prefix: '/abs' })).rejects.toMatchObject({ code: 'KRAKEN_INVALID_KEY' });
      expect((await backend.list()).keys).toEqual([]);
    });

    it('lists keys in lexical order with prefix filtering', async () => {
      const keys = ['a/c', 'a-b', 'a.b', 'a0', 'b/x/y', 'b/x-y', 'A', '_u', 'a/b/c'];
      for (const key of keys) await put(key, key);
      const all = await backend.list();
      expect(all.keys).toEqual([...keys].sort());
      expect(all.continuationToken).toBeUndefined();
      expect((await backend.list({ prefix: 'a/' })).keys).toEqual(['a/b/c', 'a/c']);
      expect((await backend.list({ prefix: 'b/x' })).keys).toEqual(['b/x-y', 'b/x/y']);
      expect((await backend.list({ prefix: 'a' })).keys).toEqual(['a-b', 'a.b', 'a/b/c', 'a/c', 'a0']);
      expect((await backend.list({ prefix: 'zzz' })).keys).toEqual([]);
    });

    it('paginates with continuation tokens, returning every key exactly once', async () => {
      const keys = Array.from(
        { length: 23 },
        (_, i) => `p/${String(i % 5)}/obj-${String(i).padStart(2, '0')}`,
      );
      for (const key of keys) await put(key, 'x');
      await put('q/outside', 'x');
      const seen: string[] = [];
      let token: string | undefined;
      let pages = 0;
      do {
        const page = await backend.list({
          prefix: 'p/',
          limit: 4,
          ...(token === undefined ? {} : { continuationToken: token }),
        });
        expect(page.keys.length).toBeLessThanOrEqual(4);
        seen.push(...page.keys);
        token = page.continuationToken;
        pages++;
      } while (token !== undefined);
      expect(seen).toEqual([...keys].sort());
      expect(pages).toBe(6);
    });

    it('leaves nothing behind when the source fails mid-write', async () => {
      await expect(backend.write('failed/object', failingStream(64 * 1024))).rejects.toThrow('source failed');
      expect(await backend.stat('failed/object')).toBeUndefined();
      expect((await backend.list()).keys).toEqual([]);
      expect(await harness.leftovers()).toEqual([]);
    });

    it('leaves nothing behind when a write is aborted', async () => {
      const controller = new AbortController();
      const source = stallingStream(64 * 1024, () => controller.abort());
      await expect(
        backend.write('aborted/object', source, { signal: controller.signal }),
      ).rejects.toMatchObject({
        name: 'AbortError',
      });
      expect(await backend.stat('aborted/object')).toBeUndefined();
      expect((await backend.list()).keys).toEqual([]);
      expect(await harness.leftovers()).toEqual([]);
    });

    it('keeps the previous content when an overwrite fails', async () => {
      await put('kept', 'original');
      await expect(backend.write('kept', failingStream(1024))).rejects.toThrow();
      expect((await readAll(await backend.read('kept'))).toString()).toBe('original');
    });

    it('survives concurrent writes of identical content to one key', async () => {
      const results = await Promise.all(
        Array.from({ length: 5 }, () => put('same/key', 'identical content')),
      );
      expect(results.map((r) => r.size)).toEqual([17, 17, 17, 17, 17]);
      expect((await readAll(await backend.read('same/key'))).toString()).toBe('identical content');
      expect(await harness.leftovers()).toEqual([]);
    });

    it('streams a large object in and out', { timeout: 120_000 }, async () => {
      const size = options.largeObjectBytes ?? 64 * 1024 * 1024;
      const written = await backend.write('large/object', generatedStream(size));
      expect(written.size).toBe(size);
      const back = await sha256OfStream(await backend.read('large/object'));
      expect(back).toEqual({ hex: generatedSha256(size), bytes: size });
      const tail = await readAll(await backend.read('large/object', { start: size - 10, end: size + 10 }));
      expect(tail.length).toBe(10);
    });

    it('passes its readiness check', async () => {
      await expect(backend.check()).resolves.toBeUndefined();
      expect(await harness.leftovers()).toEqual([]);
      expect((await backend.list()).keys).toEqual([]);
    });
  });
}
