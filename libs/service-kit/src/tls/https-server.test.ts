import { connect as tlsConnect } from 'node:tls';
import { mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { createManualClock } from '@kraken/foundation/testing';
import { createTestPki, type TestPki } from '../testing/index.js';
import { createHttpServer } from '../http-server.js';
import { createMetrics } from '../metrics.js';
import { silentLogger } from '../logger.js';
import { createJsonApiClient } from '../api/json-api-client.js';
import { ServiceUnreachableError } from '../api/api-errors.js';
import { createClientTls, type ClientTls } from './client-tls.js';
import { peerIdentity } from './peer-identity.js';
import { clientTlsSchema, serverTlsSchema, type ServerTlsConfig } from './tls-config.js';

const health = z.object({ status: z.string() });
const whoami = z.object({ names: z.array(z.string()).nullable() });

let dir: string;
let pki: TestPki;
const cleanups: Array<() => Promise<unknown> | unknown> = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kraken-https-'));
  pki = createTestPki(dir);
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  rmSync(dir, { recursive: true, force: true });
});

async function serve(
  tls: ServerTlsConfig,
  timers = createManualClock(),
): Promise<{ app: FastifyInstance; url: string }> {
  const app = createHttpServer({
    logger: silentLogger(),
    metrics: createMetrics('tls_test', { defaultMetrics: false }),
    tls,
    timers,
  });
  app.get('/whoami', async (request) => ({ names: peerIdentity(request)?.names ?? null }));
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  cleanups.push(() => app.close());
  return { app, url };
}

function apiClient(url: string, tls?: ClientTls) {
  const client = createJsonApiClient({ url, timeoutMs: 5_000, maxResponseBytes: 64 * 1024, tls });
  cleanups.push(() => client.close());
  return client;
}

/** The fingerprint of the certificate a fresh connection is served. */
function servedFingerprint(url: string, ca: string): Promise<string> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port: Number(port), ca: readFileSync(ca) }, () => {
      resolve(socket.getPeerCertificate().fingerprint256);
      socket.end();
    });
    socket.on('error', reject);
  });
}

describe('createHttpServer over TLS', () => {
  it('serves HTTPS to a client that verifies the CA, and not to one that does not know it', async () => {
    const cert = pki.issue('origin');
    const { url } = await serve(serverTlsSchema.parse({ certFile: cert.certFile, keyFile: cert.keyFile }));
    expect(url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const tls = createClientTls(clientTlsSchema.parse({ caFile: pki.caFile }));
    cleanups.push(() => tls.close());

    expect(await apiClient(url, tls).json({ method: 'GET', path: '/health' }, health)).toEqual({
      status: 'ok',
    });
    // No client certificate was asked for: the request has no identity.
    expect(await apiClient(url, tls).json({ method: 'GET', path: '/whoami' }, whoami)).toEqual({
      names: null,
    });
    const err = await apiClient(url)
      .send({ method: 'GET', path: '/health' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ServiceUnreachableError);
    expect((err as Error).message).toMatch(/certificate/);
  });

  it('serves a certificate replaced on disk on the next connection, without a restart', async () => {
    const clock = createManualClock();
    const first = pki.issue('origin');
    const next = pki.issue('origin', { file: 'origin-next' });
    const { url } = await serve(
      serverTlsSchema.parse({ certFile: first.certFile, keyFile: first.keyFile, reloadIntervalMs: 5_000 }),
      clock,
    );
    const tls = createClientTls(clientTlsSchema.parse({ caFile: pki.caFile }));
    cleanups.push(() => tls.close());
    const client = apiClient(url, tls);
    await client.json({ method: 'GET', path: '/health' }, health);
    expect(await servedFingerprint(url, pki.caFile)).toBe(first.fingerprint256);

    renameSync(next.keyFile, first.keyFile);
    renameSync(next.certFile, first.certFile);
    await clock.advance(5_000);
    // The check reads the files off the event loop; the next connections see its result.
    await vi.waitFor(async () => expect(await servedFingerprint(url, pki.caFile)).toBe(next.fingerprint256), {
      timeout: 5_000,
    });
    // A client that was already connected goes on working.
    expect(await client.json({ method: 'GET', path: '/health' }, health)).toEqual({ status: 'ok' });
  });

  it('shows the verified client identity, and a reloaded client certificate on new connections', async () => {
    const server = pki.issue('build-index');
    const { url } = await serve(
      serverTlsSchema.parse({
        certFile: server.certFile,
        keyFile: server.keyFile,
        clientCaFile: pki.caFile,
        clientAuth: 'require',
      }),
    );
    const proxy = pki.issue('proxy', { sans: ['DNS:proxy.kraken.svc', 'URI:spiffe://kraken/proxy'] });
    const tls = createClientTls(
      clientTlsSchema.parse({ caFile: pki.caFile, certFile: proxy.certFile, keyFile: proxy.keyFile }),
      { timers: createManualClock() },
    );
    cleanups.push(() => tls.close());
    expect(await apiClient(url, tls).json({ method: 'GET', path: '/whoami' }, whoami)).toEqual({
      names: ['proxy', 'proxy.kraken.svc', 'spiffe://kraken/proxy'],
    });

    const origin = pki.issue('origin', { sans: [] });
    renameSync(origin.keyFile, proxy.keyFile);
    renameSync(origin.certFile, proxy.certFile);
    expect(await tls.check()).toBe(true);
    expect(await apiClient(url, tls).json({ method: 'GET', path: '/whoami' }, whoami)).toEqual({
      names: ['origin'],
    });
  });
});
