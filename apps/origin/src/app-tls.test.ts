import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { digestOf } from '@kraken/oci-content';
import { createOriginClient } from '@kraken/origin';
import { ConfigError, createClientTls, parseConfig, silentLogger } from '@kraken/service-kit';
import { createTestPki, type TestPki } from '@kraken/service-kit/testing';
import { createApp, type App } from './app.js';
import { configSchema } from './config.js';

describe('origin app over mutual TLS', () => {
  let dir: string;
  let pki: TestPki;
  let app: App | undefined;
  const closers: Array<() => unknown> = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kraken-origin-tls-'));
    pki = createTestPki(dir);
  });
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
    await app?.close();
    app = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  const configFor = (tls: Record<string, unknown>) =>
    parseConfig(configSchema, {
      listen: { port: 0 },
      storage: { type: 'filesystem', root: join(dir, 'store') },
      uploads: { dir: join(dir, 'uploads') },
      cache: { dir: join(dir, 'cache') },
      writeBack: { dbPath: join(dir, 'write-back.db') },
      p2p: { listen: { host: '127.0.0.1', port: 0 }, dir: join(dir, 'p2p') },
      origins: { nodes: [] },
      trackers: { nodes: ['127.0.0.1:9'], scheme: 'https' },
      tls,
    });

  const clientAs = (identity: string) => {
    const cert = pki.issue(identity, { sans: [] });
    const tls = createClientTls({
      caFile: pki.caFile,
      certFile: cert.certFile,
      keyFile: cert.keyFile,
      reloadIntervalMs: 30_000,
    });
    const client = createOriginClient({ url: app!.url, tls });
    closers.push(
      () => tls.close(),
      () => client.close(),
    );
    return client;
  };

  it('serves HTTPS, lets the default writers write and others only read', async () => {
    const server = pki.issue('origin-0');
    const self = pki.issue('origin', { sans: [], file: 'origin-client' });
    app = createApp(
      configFor({
        server: {
          certFile: server.certFile,
          keyFile: server.keyFile,
          clientCaFile: pki.caFile,
          clientAuth: 'require',
        },
        client: { caFile: pki.caFile, certFile: self.certFile, keyFile: self.keyFile },
      }),
      { logger: silentLogger() },
    );
    await app.start();
    expect(app.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);

    const digest = digestOf('over mutual TLS');
    await clientAs('proxy').putBlob(digest, Readable.from([Buffer.from('over mutual TLS')]));
    const agent = clientAs('agent');
    expect(await agent.statBlob(digest)).toEqual({ size: 15 });
    await agent.ping();
    await expect(agent.deleteBlob(digest)).rejects.toMatchObject({
      statusCode: 403,
      code: 'KRAKEN_IDENTITY_FORBIDDEN',
    });
  });

  it('fails to build, naming the file, when a certificate file is missing', () => {
    const server = pki.issue('origin-0');
    const missing = join(dir, 'absent', 'ca.crt');
    const build = () =>
      createApp(
        configFor({
          server: { certFile: server.certFile, keyFile: server.keyFile },
          client: { caFile: missing },
        }),
        { logger: silentLogger() },
      );
    expect(build).toThrow(ConfigError);
    expect(build).toThrow(`tls.client.caFile "${missing}" cannot be read (ENOENT)`);
  });

  it('defaults the writers to the components that write to origins', () => {
    expect(configFor({}).tls).toEqual({ writers: ['proxy', 'origin', 'build-index', 'tracker'] });
  });
});
