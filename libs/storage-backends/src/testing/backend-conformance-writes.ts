/**
 * The write side of the StorageBackend contract, for backends that store what they
 * are given: overwrite, delete, lexical paginated listing, atomicity of failed and
 * aborted writes (nothing visible, no leftovers) and a large object streamed in and
 * out without being held in memory.
 */
import { Readable } from 'node:stream';
import { expect, it } from 'vitest';
import type { ConformanceContext } from './conformance-harness.js';
import {
  failingStream,
  generatedSha256,
  generatedStream,
  readAll,
  sha256OfStream,
  stallingStream,
} from './generated-stream.js';

export function describeWritableConformance(
  ctx: ConformanceContext,
  options: { largeObjectBytes: number | undefined },
): void {
  const put = (key: string, content: string | Buffer) =>
    ctx.backend().write(key, Readable.from([Buffer.from(content)]));

  it('returns the stat of what it wrote', async () => {
    const written = await put('a/b/object', 'hello world');
    expect(written.size).toBe(11);
    expect(written.modifiedAt).toBeInstanceOf(Date);
  });

  it('does not treat a key prefix (directory) as an object', async () => {
    await put('dir/child', 'x');
    expect(await ctx.backend().stat('dir')).toBeUndefined();
    await expect(ctx.backend().read('dir')).rejects.toMatchObject({ code: 'KRAKEN_OBJECT_NOT_FOUND' });
    expect(await ctx.backend().delete('dir')).toBe(false);
  });

  it('overwrites an object with new content', async () => {
    await put('k', 'first');
    await put('k', 'second!');
    expect((await readAll(await ctx.backend().read('k'))).toString()).toBe('second!');
    expect((await ctx.backend().stat('k'))?.size).toBe(7);
  });

  it('deletes objects and reports missing ones', async () => {
    await put('del/me', 'x');
    expect(await ctx.backend().delete('del/me')).toBe(true);
    expect(await ctx.backend().stat('del/me')).toBeUndefined();
    expect(await ctx.backend().delete('del/me')).toBe(false);
  });

  it('refuses unsafe list prefixes', async () => {
    await expect(ctx.backend().list({ prefix: '../' })).rejects.toMatchObject({ code: 'KRAKEN_INVALID_KEY' });
    await expect(ctx.backend().list({ prefix: '/abs' })).rejects.toMatchObject({
      code: 'KRAKEN_INVALID_KEY',
    });
    expect((await ctx.backend().list()).keys).toEqual([]);
  });

  it('lists keys in lexical order with prefix filtering', async () => {
    const keys = ['a/c', 'a-b', 'a.b', 'a0', 'b/x/y', 'b/x-y', 'A', '_u', 'a/b/c'];
    for (const key of keys) await put(key, key);
    const all = await ctx.backend().list();
    expect(all.keys).toEqual([...keys].sort());
    expect(all.continuationToken).toBeUndefined();
    expect((await ctx.backend().list({ prefix: 'a/' })).keys).toEqual(['a/b/c', 'a/c']);
    expect((await ctx.backend().list({ prefix: 'b/x' })).keys).toEqual(['b/x-y', 'b/x/y']);
    expect((await ctx.backend().list({ prefix: 'a' })).keys).toEqual(['a-b', 'a.b', 'a/b/c', 'a/c', 'a0']);
    expect((await ctx.backend().list({ prefix: 'zzz' })).keys).toEqual([]);
  });

  it('paginates with continuation tokens, returning every key exactly once', async () => {
    const keys = Array.from({ length: 25 }, (_, i) => `p/${String(i % 5)}/obj-${String(i).padStart(2, '0')}`);
    await Promise.all(keys.map((key) => put(key, 'x')));
    await put('q/outside', 'x');
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await ctx.backend().list({
        prefix: 'p/',
        limit: 10,
        ...(token === undefined ? {} : { continuationToken: token }),
      });
      expect(page.keys.length).toBeLessThanOrEqual(10);
      seen.push(...page.keys);
      token = page.continuationToken;
      pages++;
    } while (token !== undefined && pages < 10);
    expect(seen).toEqual([...keys].sort());
    expect(pages).toBe(3);
  });

  it('leaves nothing behind when the source fails mid-write', async () => {
    await expect(ctx.backend().write('failed/object', failingStream(64 * 1024))).rejects.toThrow(
      'source failed',
    );
    expect(await ctx.backend().stat('failed/object')).toBeUndefined();
    expect((await ctx.backend().list()).keys).toEqual([]);
    expect(await ctx.harness().leftovers()).toEqual([]);
  });

  it('rejects with the error of a source that fails at once, before the backend reads it', async () => {
    const source = new Readable({ read() {} });
    // Emitted on the next tick: a backend that awaits anything before listening
    // would let it go unhandled.
    source.destroy(new Error('source failed at once'));
    await expect(ctx.backend().write('early/failure', source)).rejects.toThrow('source failed at once');
    expect(await ctx.backend().stat('early/failure')).toBeUndefined();
    expect(await ctx.harness().leftovers()).toEqual([]);
  });

  it('leaves nothing behind when a write is aborted', async () => {
    const controller = new AbortController();
    const source = stallingStream(64 * 1024, () => controller.abort());
    await expect(
      ctx.backend().write('aborted/object', source, { signal: controller.signal }),
    ).rejects.toMatchObject({ name: 'AbortError' });
    expect(await ctx.backend().stat('aborted/object')).toBeUndefined();
    expect((await ctx.backend().list()).keys).toEqual([]);
    expect(await ctx.harness().leftovers()).toEqual([]);
  });

  it('rejects a write whose signal is already aborted, touching nothing', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(
      ctx.backend().write('never', Readable.from([Buffer.from('x')]), { signal: controller.signal }),
    ).rejects.toMatchObject({ name: 'AbortError' });
    expect(await ctx.backend().stat('never')).toBeUndefined();
  });

  it('keeps the previous content when an overwrite fails', async () => {
    await put('kept', 'original');
    await expect(ctx.backend().write('kept', failingStream(1024))).rejects.toThrow();
    expect((await readAll(await ctx.backend().read('kept'))).toString()).toBe('original');
  });

  it('survives concurrent writes of identical content to one key', async () => {
    const results = await Promise.all(Array.from({ length: 5 }, () => put('same/key', 'identical content')));
    expect(results.map((r) => r.size)).toEqual([17, 17, 17, 17, 17]);
    expect((await readAll(await ctx.backend().read('same/key'))).toString()).toBe('identical content');
    expect(await ctx.harness().leftovers()).toEqual([]);
  });

  it('streams a large object in and out', { timeout: 120_000 }, async () => {
    const size = options.largeObjectBytes ?? 64 * 1024 * 1024;
    // Generated chunk by chunk and hashed on both sides: neither end holds the object.
    const written = await ctx.backend().write('large/object', generatedStream(size));
    expect(written.size).toBe(size);
    const back = await sha256OfStream(await ctx.backend().read('large/object'));
    expect(back).toEqual({ hex: generatedSha256(size), bytes: size });
    const tail = await readAll(
      await ctx.backend().read('large/object', { start: size - 10, end: size + 10 }),
    );
    expect(tail.length).toBe(10);
    const middle = await sha256OfStream(
      await ctx.backend().read('large/object', { start: 1024 * 1024, end: 3 * 1024 * 1024 - 1 }),
    );
    expect(middle.bytes).toBe(2 * 1024 * 1024);
    expect(await ctx.harness().leftovers()).toEqual([]);
  });

  it('leaves no object behind from its readiness check', async () => {
    await ctx.backend().check();
    expect((await ctx.backend().list()).keys).toEqual([]);
  });
}
