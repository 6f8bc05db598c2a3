import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createMetrics } from '@kraken/service-kit';
import { NoBackendForNamespaceError, StorageUnavailableError, UpstreamResponseError } from '../errors.js';
import { createFilesystemBackend } from '../backends/filesystem/filesystem-backend.js';
import type { NamespaceAwareBackend, StorageBackend } from '../storage-backend.js';
import { createBackendRouter } from './backend-router.js';
import { createNamespaceRouter } from './namespace-router.js';
import { backendRoutingSchema } from './routing-config.js';
import { readAll } from '../testing/generated-stream.js';

function named(name: string, overrides: Partial<StorageBackend> = {}): StorageBackend {
  return {
    name,
    stat: async () => undefined,
    read: async () => Readable.from([]),
    write: async () => ({ size: 0, modifiedAt: new Date(0) }),
    list: async () => ({ keys: [], continuationToken: undefined }),
    delete: async () => false,
    check: async () => {},
    close: async () => {},
    ...overrides,
  };
}

describe('namespace router', () => {
  it('sends each namespace to the first rule matching all of it', () => {
    const library = named('library');
    const rest = named('rest');
    const router = createNamespaceRouter([
      { namespace: 'library/.*', backend: library },
      { namespace: '.*', backend: rest },
    ]);
    expect(router.forNamespace('library/redis')).toBe(library);
    expect(router.forNamespace('team/library/redis')).toBe(rest);
    expect(router.forNamespace('library')).toBe(rest);
    expect(router.backends).toEqual([library, rest]);
  });

  it('fails with a typed error naming the namespace and the patterns when nothing matches', () => {
    const router = createNamespaceRouter([
      { namespace: 'library/.*', backend: named('a') },
      { namespace: 'team-[a-z]+/.*', backend: named('b') },
    ]);
    let error: unknown;
    try {
      router.forNamespace('other/app');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(NoBackendForNamespaceError);
    expect(error).toMatchObject({ code: 'KRAKEN_NO_BACKEND_FOR_NAMESPACE', namespace: 'other/app' });
    expect((error as Error).message).toContain('"other/app"');
    expect((error as Error).message).toContain('/library/.*/');
    expect((error as Error).message).toContain('/team-[a-z]+/.*/');
    expect(() => router.forNamespace('')).toThrow(NoBackendForNamespaceError);
  });

  it('hands out the namespace view of a namespace-aware backend', () => {
    const aware: NamespaceAwareBackend = {
      ...named('registry'),
      forNamespace: (ns) => named(`registry/${ns}`),
    };
    const router = createNamespaceRouter([{ namespace: '.*', backend: aware }]);
    expect(router.forNamespace('library/redis').name).toBe('registry/library/redis');
  });

  it('checks every backend and names each one that failed', async () => {
    const router = createNamespaceRouter([
      { namespace: 'a', backend: named('fs:/a') },
      { namespace: 'b', backend: named('http:b', { check: () => Promise.reject(new Error('refused')) }) },
      {
        namespace: 'c',
        backend: named('http:c', {
          check: () => Promise.reject(new StorageUnavailableError('http:c', 'down')),
        }),
      },
    ]);
    const checked = router.check();
    await expect(checked).rejects.toBeInstanceOf(StorageUnavailableError);
    await expect(checked).rejects.toThrow(/http:b, http:c.*http:b: refused.*http:c is unavailable: down/);
    const one = createNamespaceRouter([
      {
        namespace: 'c',
        backend: named('http:c', {
          check: () => Promise.reject(new StorageUnavailableError('http:c', 'down')),
        }),
      },
    ]);
    await expect(one.check()).rejects.toThrow('storage backend http:c is unavailable: down');
  });

  it('closes every backend once', async () => {
    const close = vi.fn(async () => {});
    const router = createNamespaceRouter([
      { namespace: 'a', backend: named('a', { close }) },
      { namespace: 'b', backend: named('b', { close }) },
    ]);
    await Promise.all([router.close(), router.close()]);
    expect(close).toHaveBeenCalledTimes(2);
  });
});

describe('backend routing config', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'router-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('defaults to one catch-all rule on the default backend', () => {
    const rules = backendRoutingSchema({ defaultRoot: '/srv/kraken' }).parse(undefined);
    expect(rules).toHaveLength(1);
    expect(rules[0]).toMatchObject({
      namespace: '.*',
      backend: { type: 'filesystem', root: '/srv/kraken' },
      resilience: { bandwidth: { readBytesPerSecond: 0 }, retry: { maxAttempts: 4 } },
    });
  });

  it('accepts every backend kind and rejects bad patterns and unknown keys', () => {
    const schema = backendRoutingSchema();
    expect(
      schema.parse([
        { namespace: 'mirror/.*', backend: { type: 'http', blobUrl: 'https://m.example/{digest}' } },
        { namespace: 'hub/.*', backend: { type: 'registry', url: 'https://registry-1.docker.io' } },
        { namespace: '.*', backend: { type: 'filesystem', root: '/x' } },
      ]),
    ).toHaveLength(3);
    const bad = schema.safeParse([{ namespace: '(unclosed', backend: { type: 'filesystem' } }]);
    expect(bad.error?.issues[0]).toMatchObject({
      path: [0, 'namespace'],
      message: 'not a valid regular expression',
    });
    expect(schema.safeParse([{ namespace: '.*', surprise: true }]).success).toBe(false);
    expect(schema.safeParse([]).success).toBe(false);
    expect(
      schema.safeParse([
        { namespace: '.*', backend: { type: 'registry', url: 'https://r.example', username: 'u' } },
      ]).success,
    ).toBe(false);
  });

  it('builds each rule behind its resilience settings', async () => {
    const rules = backendRoutingSchema().parse([
      {
        namespace: 'flaky/.*',
        backend: { type: 'filesystem', root: join(dir, 'flaky') },
        resilience: { retry: { initialDelayMs: 0 } },
      },
      { namespace: '.*', backend: { type: 'filesystem', root: join(dir, 'rest') } },
    ]);
    let failures = 2;
    const metrics = createMetrics('test', { defaultMetrics: false });
    const router = createBackendRouter(rules, {
      metrics,
      createBackend: (config) => {
        const fs = createFilesystemBackend({ root: config.type === 'filesystem' ? config.root : dir });
        return {
          ...fs,
          stat: (key) =>
            failures-- > 0
              ? Promise.reject(new UpstreamResponseError(fs.name, 'busy', { status: 503 }))
              : fs.stat(key),
        };
      },
    });
    try {
      const rest = router.forNamespace('library/redis');
      await rest.write('obj', Readable.from([Buffer.from('hello')]));
      expect((await readAll(await rest.read('obj'))).toString()).toBe('hello');
      expect(await router.forNamespace('flaky/x').stat('obj')).toBeUndefined();
      expect(await metrics.registry.getSingleMetricAsString('kraken_test_storage_retries_total')).toContain(
        `kraken_test_storage_retries_total{backend="fs:${join(dir, 'flaky')}",operation="stat"} 2`,
      );
      await expect(router.check()).resolves.toBeUndefined();
    } finally {
      await router.close();
    }
  });
});
