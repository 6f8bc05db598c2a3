/**
 * The StorageBackend contract as a reusable vitest suite. Every backend runs it, so
 * the origin can rely on the same behaviour (atomic writes, one "not found", lexical
 * pagination, key validation, a readiness check that names the backend) whatever
 * stores its blobs.
 *
 * Read-only backends (http, registry) run it too, with `capabilities: { writable:
 * false, keyFor, seed }`: their content is seeded through their upstream server, the
 * read contract is checked in full, and write/delete are asserted to reject with
 * KRAKEN_READ_ONLY_BACKEND (after key validation). The write, list and delete
 * behaviour of writable backends lives in backend-conformance-writes.ts.
 */
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { describeWritableConformance } from './backend-conformance-writes.js';
import type {
  BackendCapabilities,
  BackendHarness,
  ConformanceContext,
  ConformanceOptions,
} from './conformance-harness.js';
import { readAll } from './generated-stream.js';

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

export function describeStorageBackendConformance<H extends BackendHarness>(
  name: string,
  createHarness: () => Promise<H>,
  options: ConformanceOptions<H> = {},
): void {
  const capabilities: BackendCapabilities<H> = options.capabilities ?? { writable: true };
  describe(`StorageBackend conformance: ${name}`, () => {
    let harness: H | undefined;

    beforeEach(async () => {
      harness = await createHarness();
    });
    afterEach(async () => {
      await harness?.backend.close();
      await harness?.cleanup();
      harness = undefined;
    });

    const current = (): H => {
      if (harness === undefined) throw new Error('no harness: used outside a test');
      return harness;
    };
    const ctx: ConformanceContext = {
      harness: current,
      backend: () => current().backend,
      async put(label, content) {
        const bytes = Buffer.from(content);
        if (capabilities.writable) {
          await current().backend.write(label, Readable.from([bytes]));
          return label;
        }
        await capabilities.seed(current(), bytes);
        return capabilities.keyFor(bytes);
      },
      missing: (label) =>
        capabilities.writable ? label : capabilities.keyFor(Buffer.from(`never seeded: ${label}`)),
    };

    describeReadContract(ctx);
    if (capabilities.writable)
      describeWritableConformance(ctx, { largeObjectBytes: options.largeObjectBytes });
    else describeReadOnlyContract(ctx);
  });
}

function describeReadContract(ctx: ConformanceContext): void {
  it('stores, stats and reads an object', async () => {
    const key = await ctx.put('a/b/object', 'hello world');
    const stat = await ctx.backend().stat(key);
    expect(stat?.size).toBe(11);
    expect(stat?.modifiedAt).toBeInstanceOf(Date);
    expect((await readAll(await ctx.backend().read(key))).toString()).toBe('hello world');
  });

  it('serves an empty object', async () => {
    const key = await ctx.put('empty', '');
    expect((await ctx.backend().stat(key))?.size).toBe(0);
    expect((await readAll(await ctx.backend().read(key))).length).toBe(0);
  });

  it('reports a missing object as undefined from stat and ObjectNotFoundError from read', async () => {
    const key = ctx.missing('missing/key');
    expect(await ctx.backend().stat(key)).toBeUndefined();
    await expect(ctx.backend().read(key)).rejects.toMatchObject({ code: 'KRAKEN_OBJECT_NOT_FOUND' });
    await expect(ctx.backend().read(key, { start: 0, end: 1 })).rejects.toMatchObject({
      code: 'KRAKEN_OBJECT_NOT_FOUND',
    });
  });

  it('reads inclusive byte ranges and clamps the end', async () => {
    const key = await ctx.put('ranged', '0123456789');
    const range = async (start: number, end: number) =>
      (await readAll(await ctx.backend().read(key, { start, end }))).toString();
    expect(await range(2, 5)).toBe('2345');
    expect(await range(0, 0)).toBe('0');
    expect(await range(9, 9)).toBe('9');
    expect(await range(7, 100)).toBe('789');
    expect(await range(0, Number.MAX_SAFE_INTEGER)).toBe('0123456789');
  });

  it('rejects unsatisfiable and malformed ranges with InvalidRangeError', async () => {
    const key = await ctx.put('ranged', '0123456789');
    for (const range of [
      { start: 10, end: 12 },
      { start: 5, end: 4 },
      { start: -1, end: 3 },
      { start: 0.5, end: 3 },
    ]) {
      await expect(ctx.backend().read(key, range), JSON.stringify(range)).rejects.toMatchObject({
        code: 'KRAKEN_INVALID_RANGE',
        size: 10,
      });
    }
  });

  it('refuses unsafe keys in every operation', async () => {
    const backend = ctx.backend();
    for (const key of UNSAFE_KEYS) {
      await expect(backend.stat(key), key).rejects.toMatchObject({ code: 'KRAKEN_INVALID_KEY' });
      await expect(backend.read(key), key).rejects.toMatchObject({ code: 'KRAKEN_INVALID_KEY' });
      await expect(backend.delete(key), key).rejects.toMatchObject({ code: 'KRAKEN_INVALID_KEY' });
      await expect(backend.write(key, Readable.from([Buffer.from('x')])), key).rejects.toMatchObject({
        code: 'KRAKEN_INVALID_KEY',
      });
    }
  });

  it('passes its readiness check', async () => {
    await expect(ctx.backend().check()).resolves.toBeUndefined();
    expect(await ctx.harness().leftovers()).toEqual([]);
  });

  it('fails the readiness check with StorageUnavailableError naming the backend when it cannot work', async () => {
    const broken = ctx.harness().unavailableBackends();
    expect(broken.length).toBeGreaterThan(0);
    try {
      for (const backend of broken) {
        const failure = await backend.check().then(
          () => undefined,
          (err: unknown) => err,
        );
        expect(failure, backend.name).toMatchObject({ code: 'KRAKEN_STORAGE_UNAVAILABLE' });
        expect((failure as Error).message).toContain(backend.name);
      }
    } finally {
      await Promise.all(broken.map((b) => b.close()));
    }
  });
}

function describeReadOnlyContract(ctx: ConformanceContext): void {
  it('rejects writes and deletes with ReadOnlyBackendError and keeps what it serves', async () => {
    const key = await ctx.put('kept', 'served upstream');
    const source = Readable.from([Buffer.from('replacement')]);
    await expect(ctx.backend().write(key, source)).rejects.toMatchObject({
      code: 'KRAKEN_READ_ONLY_BACKEND',
    });
    await expect(ctx.backend().write(ctx.missing('new'), Readable.from([]))).rejects.toMatchObject({
      code: 'KRAKEN_READ_ONLY_BACKEND',
    });
    await expect(ctx.backend().delete(key)).rejects.toMatchObject({ code: 'KRAKEN_READ_ONLY_BACKEND' });
    await expect(ctx.backend().delete(ctx.missing('gone'))).rejects.toMatchObject({
      code: 'KRAKEN_READ_ONLY_BACKEND',
    });
    expect((await readAll(await ctx.backend().read(key))).toString()).toBe('served upstream');
  });
}
