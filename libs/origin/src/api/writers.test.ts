import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createManualClock } from '@kraken/foundation/testing';
import type { FastifyInstance } from 'fastify';
import { digestOf } from '@kraken/oci-content';
import { createLiveRing, createRingConfigSchema, type LiveRing } from '@kraken/hashring';
import {
  createClientTls,
  createHttpServer,
  createMetrics,
  RemoteApiError,
  ServiceUnreachableError,
  silentLogger,
  type ClientTls,
} from '@kraken/service-kit';
import { createTestPki, type TestPki } from '@kraken/service-kit/testing';
import { readAll } from '@kraken/storage-backends/testing';
import { createContentStore, createFilesystemBackend } from '@kraken/storage-backends';
import { createOriginClient } from '../client/origin-client.js';
import { createOriginRingClient } from '../client/ring-client.js';
import { body } from '../testing/origin-api-harness.js';
import { createOriginRoutes } from './routes.js';

// The origin app's default writers: pushes, copies among owners and from other clusters, seeding.
const WRITERS = ['proxy', 'origin', 'build-index', 'tracker'];

let dir: string;
let pki: TestPki;
let server: FastifyInstance;
let url: string;
const closers: Array<() => unknown> = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kraken-origin-writers-'));
  pki = createTestPki(dir);
  const cert = pki.issue('origin-0');
  const logger = silentLogger();
  const metrics = createMetrics('origin', { defaultMetrics: false });
  server = createHttpServer({
    logger,
    metrics,
    tls: {
      certFile: cert.certFile,
      keyFile: cert.keyFile,
      clientCaFile: pki.caFile,
      clientAuth: 'require',
      reloadIntervalMs: 30_000,
    },
    writers: WRITERS,
  });
  await server.register(
    createOriginRoutes({
      store: createContentStore({ backend: createFilesystemBackend({ root: join(dir, 'store') }) }),
      uploadsDir: join(dir, 'uploads'),
      logger,
      metrics,
      seeding: { seed: async () => ({ peerId: 'a'.repeat(40), host: '127.0.0.1', port: 16001 }) },
    }),
  );
  url = await server.listen({ host: '127.0.0.1', port: 0 });
});
afterAll(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

function tlsAs(identity: string | undefined): ClientTls {
  const cert = identity === undefined ? undefined : pki.issue(identity, { sans: [] });
  const tls = createClientTls({
    caFile: pki.caFile,
    ...(cert === undefined ? {} : { certFile: cert.certFile, keyFile: cert.keyFile }),
    reloadIntervalMs: 30_000,
  });
  closers.push(() => tls.close());
  return tls;
}

function clientAs(identity: string | undefined) {
  const client = createOriginClient({ url, tls: tlsAs(identity) });
  closers.push(() => client.close());
  return client;
}

describe('origin writes with client certificates required', () => {
  it('lets the proxy store, upload, seed and delete', async () => {
    const proxy = clientAs('proxy');
    const digest = digestOf('pushed by the proxy');
    await proxy.putBlob(digest, body('pushed by the proxy'));
    expect(await proxy.statBlob(digest)).toEqual({ size: 19 });

    const chunked = digestOf('chunked');
    const id = await proxy.createUpload();
    await proxy.uploadChunk(id, body('chunked'), { start: 0, size: 7 });
    await proxy.commitUpload(id, chunked);
    expect(await proxy.statBlob(chunked)).toEqual({ size: 7 });

    expect(await clientAs('tracker').seedBlob(digest)).toMatchObject({ port: 16001 });
    expect(await proxy.deleteBlob(chunked)).toBe(true);
  });

  it('lets an agent read but not write, upload, seed or delete', async () => {
    const digest = digestOf('for agents to read');
    await clientAs('origin').putBlob(digest, body('for agents to read'));
    const agent = clientAs('agent');
    expect(await agent.statBlob(digest)).toEqual({ size: 18 });
    expect((await readAll((await agent.getBlob(digest))!)).toString()).toBe('for agents to read');

    const forbidden = { code: 'KRAKEN_IDENTITY_FORBIDDEN', statusCode: 403 };
    await expect(agent.putBlob(digestOf('x'), body('x'))).rejects.toMatchObject(forbidden);
    await expect(agent.putBlob(digestOf('x'), body('x'))).rejects.toBeInstanceOf(RemoteApiError);
    await expect(agent.createUpload()).rejects.toMatchObject(forbidden);
    await expect(agent.seedBlob(digest)).rejects.toMatchObject(forbidden);
    await expect(agent.deleteBlob(digest)).rejects.toMatchObject(forbidden);
    expect(await agent.statBlob(digest)).toEqual({ size: 18 });
  });

  it('refuses a client without a certificate at the handshake', async () => {
    const anonymous = clientAs(undefined);
    await expect(anonymous.putBlob(digestOf('y'), body('y'))).rejects.toBeInstanceOf(ServiceUnreachableError);
    await expect(anonymous.statBlob(digestOf('y'))).rejects.toBeInstanceOf(ServiceUnreachableError);
  });

  it('works as an https:// ring member, its health probes included', async () => {
    const tls = tlsAs('proxy');
    const clock = createManualClock();
    const config = createRingConfigSchema({ healthPath: '/readiness' }).parse({ nodes: [url], replicas: 1 });
    const ring: LiveRing = createLiveRing(config, { tls, timers: clock });
    closers.push(() => ring.close());
    await ring.start();
    const [node] = ring.members();
    expect(node!.url).toBe(url);
    // Failed requests make the member unhealthy; probes over TLS make it healthy again.
    for (let i = 0; i < config.health.unhealthyThreshold; i++) ring.reportFailure(node!.id);
    expect(ring.isHealthy(node!.id)).toBe(false);
    for (let round = 1; round <= config.health.healthyThreshold; round++) {
      await clock.advance(config.health.active.intervalMs);
      await vi.waitFor(() => expect(ring.health()[0]!.consecutiveSuccesses).toBe(round));
    }
    expect(ring.isHealthy(node!.id)).toBe(true);

    const origins = createOriginRingClient({ ring, tls });
    closers.push(() => origins.close());
    const digest = digestOf('through the ring');
    await origins.putBlob(digest, body('through the ring'));
    expect(await origins.statBlob(digest)).toEqual({ size: 16 });
  });
});
