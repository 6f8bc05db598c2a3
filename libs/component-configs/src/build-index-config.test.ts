import { describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfigFile, parseConfig } from '@kraken/service-kit';
import { buildIndexConfigSchema } from './build-index-config.js';

describe('build-index config', () => {
  it('has devcluster defaults for every key', () => {
    const config = parseConfig(buildIndexConfigSchema, {});
    expect(config.listen).toEqual({ host: '127.0.0.1', port: 15004 });
    expect(config.storage).toEqual({ type: 'filesystem', root: '.devcluster/build-index-0' });
    expect(config.origins).toMatchObject({ nodes: ['127.0.0.1:15002'], replicas: 3 });
    expect(config.origins.health.active.path).toBe('/readiness');
    expect(config.contentCheck).toEqual({ concurrency: 8, maxIndexDepth: 4, maxManifests: 256 });
    expect(config.cluster).toEqual({ peers: [], replicationTimeoutMs: 5_000, antiEntropyIntervalMs: 30_000 });
    expect(config.replication).toMatchObject({ clusterId: 'default', rules: [] });
    expect(config.replication.dbPath).toBeUndefined();
    expect(config.logging.level).toBe('info');
    expect(config.tracing.enabled).toBe(false);
  });

  it('names an unknown key, also nested', () => {
    expect(() => parseConfig(buildIndexConfigSchema, { listne: {} })).toThrow(/listne: unknown key/);
    expect(() => parseConfig(buildIndexConfigSchema, { origin: { uri: 'http://x' } })).toThrow(
      /origin\.uri: unknown key/,
    );
  });

  it('names a bad value', () => {
    expect(() => parseConfig(buildIndexConfigSchema, { origins: { nodes: ['no port'] } })).toThrow(
      ConfigError,
    );
    expect(() => parseConfig(buildIndexConfigSchema, { origin: { url: 'http://x' } })).toThrow(
      /origin\.url: unknown key/,
    );
    expect(() => parseConfig(buildIndexConfigSchema, { listen: { port: 'x' } })).toThrow(/listen\.port/);
    expect(() => parseConfig(buildIndexConfigSchema, { storage: { type: 'tape' } })).toThrow(/storage/);
    expect(() => parseConfig(buildIndexConfigSchema, { cluster: { peers: ['not a url'] } })).toThrow(
      /cluster\.peers\.0/,
    );
  });

  it('takes replication rules, and names a bad one', () => {
    const rule = {
      name: 'to-b',
      repositories: '.*',
      tags: 'v.*',
      destination: { discover: 'http://127.0.0.1:15104' },
      deletes: false,
      bandwidthBytesPerSecond: 0,
      enabled: true,
    };
    const config = parseConfig(buildIndexConfigSchema, {
      replication: {
        clusterId: 'a',
        dbPath: '.devcluster/build-index-0/replication.db',
        concurrency: 4,
        backfillIntervalSeconds: 60,
        retry: { initialMs: 1000, maxMs: 60000, multiplier: 2, jitter: 0.2 },
        rules: [
          rule,
          {
            ...rule,
            name: 'explicit',
            destination: {
              buildIndex: ['http://127.0.0.1:15104'],
              origins: { nodes: ['127.0.0.1:15102'], replicas: 1 },
            },
          },
        ],
      },
    });
    expect(config.replication.rules.map((r) => r.name)).toEqual(['to-b', 'explicit']);
    expect(() =>
      parseConfig(buildIndexConfigSchema, { replication: { rules: [{ ...rule, repositories: '(' }] } }),
    ).toThrow(/replication\.rules\.0\.repositories: invalid regular expression/);
    expect(() =>
      parseConfig(buildIndexConfigSchema, { replication: { rules: [{ ...rule, colour: 1 }] } }),
    ).toThrow(/replication\.rules\.0\.colour: unknown key/);
  });

  it('loads YAML from a file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'build-index-config-'));
    try {
      const path = join(dir, 'config.yaml');
      await writeFile(
        path,
        'listen:\n  port: 25004\nstorage:\n  type: filesystem\n  root: /var/lib/kraken/build-index\n',
      );
      const config = await loadConfigFile(buildIndexConfigSchema, path);
      expect(config.listen.port).toBe(25004);
      expect(config.storage).toMatchObject({ type: 'filesystem', root: '/var/lib/kraken/build-index' });
      await writeFile(path, 'contentCheck:\n  maxDepth: 3\n');
      await expect(loadConfigFile(buildIndexConfigSchema, path)).rejects.toThrow(
        /contentCheck\.maxDepth: unknown key/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
