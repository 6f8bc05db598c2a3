import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createManualClock, settle } from '@kraken/foundation/testing';
import { createMetrics } from '@kraken/service-kit';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  BackendTimeoutError,
  InvalidKeyError,
  ObjectNotFoundError,
  StorageUnavailableError,
  UpstreamResponseError,
} from '../errors.js';
import { backoffDelay, backendRetrySchema, isTransientError } from './backend-retry.js';
import { createTokenBucket } from './backend-throttle.js';
import { backendResilienceSchema, createResilientBackend } from './resilient-backend.js';
import type { NamespaceAwareBackend, StorageBackend } from '../storage-backend.js';
import { readAll } from '../testing/generated-stream.js';

function stubBackend(overrides: Partial<StorageBackend> = {}): StorageBackend {
  return {
    name: 'stub',
    stat: vi.fn(async () => ({ size: 1, modifiedAt: new Date(0) })),
    read: vi.fn(async () => Readable.from([Buffer.from('x')])),
    write: vi.fn(async (_key: string, source: Readable) => {
      let size = 0;
      for await (const chunk of source as AsyncIterable<Buffer>) size += chunk.length;
      return { size, modifiedAt: new Date(0) };
    }),
    list: vi.fn(async () => ({ keys: [], continuationToken: undefined })),
    delete: vi.fn(async () => true),
    check: vi.fn(async () => {}),
    close: vi.fn(async () => {}),
    ...overrides,
  };
}

const config = (input: object = {}) => backendResilienceSchema.parse(input);
const unavailable = () => new UpstreamResponseError('stub', 'status 503', { status: 503 });
const never = <T>() => new Promise<T>(() => {});

describe('isTransientError', () => {
  it('retries network failures, timeouts, 5xx and 429, also behind a cause', () => {
    expect(isTransientError(Object.assign(new Error('reset'), { code: 'ECONNRESET' }))).toBe(true);
    expect(isTransientError(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }))).toBe(true);
    expect(isTransientError(new BackendTimeoutError('b', 'stat', 5))).toBe(true);
    expect(isTransientError(unavailable())).toBe(true);
    expect(isTransientError(new UpstreamResponseError('b', 'slow down', { status: 429 }))).toBe(true);
    const socket = Object.assign(new Error('socket'), { code: 'UND_ERR_SOCKET' });
    expect(isTransientError(new StorageUnavailableError('b', socket))).toBe(true);
  });

  it('never retries not found, bad keys or 4xx', () => {
    expect(isTransientError(new ObjectNotFoundError('k'))).toBe(false);
    expect(isTransientError(new InvalidKeyError('k', 'bad'))).toBe(false);
    expect(isTransientError(new UpstreamResponseError('b', 'forbidden', { status: 403 }))).toBe(false);
    expect(isTransientError(new Error('plain'))).toBe(false);
    expect(isTransientError(undefined)).toBe(false);
  });
});

describe('backoffDelay', () => {
  const retry = backendRetrySchema.parse({
    initialDelayMs: 100,
    maxDelayMs: 1000,
    multiplier: 2,
    jitter: 0.5,
  });
  it('grows exponentially up to the cap, jittered within the configured fraction', () => {
    expect([1, 2, 3, 4, 5].map((n) => backoffDelay(retry, n, () => 0))).toEqual([50, 100, 200, 400, 500]);
    expect(backoffDelay(retry, 1, () => 0.999999)).toBe(100);
    expect(backoffDelay(retry, 9, () => 0.5)).toBe(750);
  });
});

describe('resilient backend', () => {
  const clock = createManualClock();
  afterEach(() => expect(clock.pending()).toBe(0));

  it('retries transient failures with backoff and counts each retry', async () => {
    const stat = vi
      .fn<StorageBackend['stat']>()
      .mockRejectedValueOnce(unavailable())
      .mockRejectedValueOnce(Object.assign(new Error('reset'), { code: 'ECONNRESET' }))
      .mockResolvedValue({ size: 7, modifiedAt: new Date(0) });
    const metrics = createMetrics('test', { defaultMetrics: false });
    const backend = createResilientBackend({
      backend: stubBackend({ stat }),
      config: config({ retry: { initialDelayMs: 100, jitter: 0 } }),
      clock,
      metrics,
    });
    const result = backend.stat('k');
    await clock.advance(99);
    expect(stat).toHaveBeenCalledTimes(1);
    await clock.advance(1);
    expect(stat).toHaveBeenCalledTimes(2);
    await clock.advance(200);
    await expect(result).resolves.toMatchObject({ size: 7 });
    expect(stat).toHaveBeenCalledTimes(3);
    expect(await metrics.registry.getSingleMetricAsString('kraken_test_storage_retries_total')).toContain(
      'kraken_test_storage_retries_total{backend="stub",operation="stat"} 2',
    );
  });

  it('does not retry final failures', async () => {
    const read = vi.fn<StorageBackend['read']>().mockRejectedValue(new ObjectNotFoundError('k'));
    const list = vi
      .fn<StorageBackend['list']>()
      .mockRejectedValue(new UpstreamResponseError('stub', 'no', { status: 403 }));
    const backend = createResilientBackend({ backend: stubBackend({ read, list }), config: config(), clock });
    await expect(backend.read('k')).rejects.toBeInstanceOf(ObjectNotFoundError);
    await expect(backend.list()).rejects.toMatchObject({ status: 403 });
    expect(read).toHaveBeenCalledTimes(1);
    expect(list).toHaveBeenCalledTimes(1);
  });

  it('gives up after maxAttempts with the last error', async () => {
    const del = vi.fn<StorageBackend['delete']>().mockRejectedValue(unavailable());
    const backend = createResilientBackend({
      backend: stubBackend({ delete: del }),
      config: config({ retry: { maxAttempts: 3, initialDelayMs: 10, jitter: 0 } }),
      clock,
    });
    const result = backend.delete('k');
    result.catch(() => {});
    await clock.advance(10);
    await clock.advance(20);
    await expect(result).rejects.toBeInstanceOf(UpstreamResponseError);
    expect(del).toHaveBeenCalledTimes(3);
  });

  it('times out attempts, retries them, and counts each timeout', async () => {
    const stat = vi.fn<StorageBackend['stat']>(() => never());
    const metrics = createMetrics('test', { defaultMetrics: false });
    const backend = createResilientBackend({
      backend: stubBackend({ stat }),
      config: config({
        retry: { maxAttempts: 2, initialDelayMs: 10, jitter: 0 },
        timeouts: { operationMs: 1000 },
      }),
      clock,
      metrics,
    });
    const result = backend.stat('k');
    result.catch(() => {});
    await clock.advance(1000);
    expect(stat).toHaveBeenCalledTimes(1);
    await clock.advance(10);
    expect(stat).toHaveBeenCalledTimes(2);
    await clock.advance(1000);
    await expect(result).rejects.toBeInstanceOf(BackendTimeoutError);
    expect(await metrics.registry.getSingleMetricAsString('kraken_test_storage_timeouts_total')).toContain(
      'kraken_test_storage_timeouts_total{backend="stub",operation="stat"} 2',
    );
    expect(await metrics.registry.getSingleMetricAsString('kraken_test_storage_retries_total')).toContain(
      'kraken_test_storage_retries_total{backend="stub",operation="stat"} 1',
    );
  });

  it('counts by operation alone when asked, into counters every wrapper on the registry shares', async () => {
    const metrics = createMetrics('test', { defaultMetrics: false });
    const flaky = () =>
      stubBackend({
        stat: vi
          .fn<StorageBackend['stat']>()
          .mockRejectedValueOnce(unavailable())
          .mockResolvedValue({ size: 1, modifiedAt: new Date(0) }),
      });
    const options = {
      config: config({ retry: { initialDelayMs: 10, jitter: 0 } }),
      clock,
      metrics,
      metricsByBackend: false,
    };
    const first = createResilientBackend({ backend: flaky(), ...options });
    const second = createResilientBackend({ backend: flaky(), ...options });
    const stats = [first.stat('k'), second.stat('k')];
    await clock.advance(10);
    await Promise.all(stats);
    const text = await metrics.registry.getSingleMetricAsString('kraken_test_storage_retries_total');
    expect(text).toContain(
      '# HELP kraken_test_storage_retries_total Storage backend operations retried after a transient error, by operation.',
    );
    expect(text).toContain('kraken_test_storage_retries_total{operation="stat"} 2');
  });

  it('destroys a stream that arrives after its read timed out', async () => {
    let deliver: (s: Readable) => void = () => {};
    const late = Readable.from([Buffer.from('late')]);
    const read = vi
      .fn<StorageBackend['read']>()
      .mockImplementationOnce(() => new Promise((resolve) => (deliver = resolve)))
      .mockResolvedValue(Readable.from([Buffer.from('fresh')]));
    const backend = createResilientBackend({
      backend: stubBackend({ read }),
      config: config({ retry: { initialDelayMs: 5, jitter: 0 }, timeouts: { firstByteMs: 50 } }),
      clock,
    });
    const result = backend.read('k');
    await clock.advance(50);
    deliver(late);
    await settle();
    expect(late.destroyed).toBe(true);
    await clock.advance(5);
    expect((await readAll(await result)).toString()).toBe('fresh');
  });

  it('does not retry writes, whose source cannot be replayed', async () => {
    const write = vi.fn<StorageBackend['write']>().mockRejectedValue(unavailable());
    const backend = createResilientBackend({ backend: stubBackend({ write }), config: config(), clock });
    await expect(backend.write('k', Readable.from([Buffer.from('x')]))).rejects.toBeInstanceOf(
      UpstreamResponseError,
    );
    expect(write).toHaveBeenCalledTimes(1);
  });

  it('limits read bandwidth with a shared token bucket', async () => {
    const chunk = Buffer.alloc(1000, 1);
    const backend = createResilientBackend({
      backend: stubBackend({ read: async () => Readable.from([chunk, chunk, chunk]) }),
      config: config({ bandwidth: { readBytesPerSecond: 1000 } }),
      clock,
    });
    let received = 0;
    const done = pipeline(
      await backend.read('k'),
      new Writable({
        write(c: Buffer, _e, cb) {
          received += c.length;
          cb();
        },
      }),
    );
    await clock.advance(0);
    expect(received).toBe(1000);
    await clock.advance(999);
    expect(received).toBe(1000);
    await clock.advance(1);
    expect(received).toBe(2000);
    await clock.advance(1000);
    await done;
    expect(received).toBe(3000);
  });

  it('limits write bandwidth', async () => {
    const chunk = Buffer.alloc(500, 1);
    const backend = createResilientBackend({
      backend: stubBackend(),
      config: config({ bandwidth: { writeBytesPerSecond: 500 } }),
      clock,
    });
    let finished = false;
    const written = backend.write('k', Readable.from([chunk, chunk])).then((s) => {
      finished = true;
      return s;
    });
    await clock.advance(999);
    expect(finished).toBe(false);
    await clock.advance(1);
    await expect(written).resolves.toMatchObject({ size: 1000 });
  });

  it('names the backend when check fails, and aborts a check that times out', async () => {
    let seen: AbortSignal | undefined;
    const failing = createResilientBackend({
      backend: stubBackend({ check: async () => Promise.reject(new Error('disk gone')) }),
      config: config(),
      clock,
    });
    await expect(failing.check()).rejects.toThrow('storage backend stub is unavailable: disk gone');
    const hanging = createResilientBackend({
      backend: stubBackend({
        check: (signal) => {
          seen = signal;
          return never();
        },
      }),
      config: config({ timeouts: { operationMs: 100 } }),
      clock,
    });
    const checked = hanging.check();
    checked.catch(() => {});
    await clock.advance(100);
    await expect(checked).rejects.toBeInstanceOf(StorageUnavailableError);
    await expect(checked).rejects.toThrow('check timed out after 100 ms');
    expect(seen?.aborted).toBe(true);
  });

  it('keeps a namespace-aware backend namespace-aware', async () => {
    const scopedStat = vi
      .fn<StorageBackend['stat']>()
      .mockRejectedValueOnce(unavailable())
      .mockResolvedValue(undefined);
    const inner: NamespaceAwareBackend = {
      ...stubBackend(),
      forNamespace: (ns) => stubBackend({ name: `stub/${ns}`, stat: scopedStat }),
    };
    const backend = createResilientBackend({
      backend: inner,
      config: config({ retry: { initialDelayMs: 1, jitter: 0 } }),
      clock,
    }) as NamespaceAwareBackend;
    const scoped = backend.forNamespace('library/redis');
    expect(scoped.name).toBe('stub/library/redis');
    const result = scoped.stat('k');
    await clock.advance(1);
    await expect(result).resolves.toBeUndefined();
    expect(scopedStat).toHaveBeenCalledTimes(2);
  });
});

describe('token bucket', () => {
  it('allows a one-second burst, then charges debt at the configured rate', () => {
    const clock = createManualClock();
    const bucket = createTokenBucket({ bytesPerSecond: 100, clock });
    expect(bucket.reserve(100)).toBe(0);
    expect(bucket.reserve(50)).toBe(500);
    expect(bucket.reserve(50)).toBe(1000);
  });
});
