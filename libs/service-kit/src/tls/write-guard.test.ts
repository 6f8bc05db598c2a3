import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestPki, type TestCertificate, type TestPki } from '../testing/index.js';
import { createHttpServer } from '../http-server.js';
import { createMetrics } from '../metrics.js';
import { silentLogger } from '../logger.js';
import { createJsonApiClient } from '../api/json-api-client.js';
import { ServiceUnreachableError } from '../api/api-errors.js';
import { errorFromResponse } from '../api/error-body.js';
import { installErrorHandler } from '../api/error-body.js';
import { createClientTls, type ClientTls } from './client-tls.js';
import { parseSubjectAltName } from './peer-identity.js';
import { clientTlsSchema, serverTlsSchema } from './tls-config.js';

let dir: string;
let pki: TestPki;
let serverCert: TestCertificate;
const closers: Array<() => unknown> = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kraken-writers-'));
  pki = createTestPki(dir);
  serverCert = pki.issue('origin');
});
afterAll(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  rmSync(dir, { recursive: true, force: true });
});

async function serve(clientAuth: 'optional' | 'require', writers: readonly string[]): Promise<string> {
  const app = createHttpServer({
    logger: silentLogger(),
    metrics: createMetrics('writers_test', { defaultMetrics: false }),
    tls: serverTlsSchema.parse({
      certFile: serverCert.certFile,
      keyFile: serverCert.keyFile,
      clientCaFile: pki.caFile,
      clientAuth,
    }),
    writers,
  });
  await app.register(async (scope) => {
    installErrorHandler(scope);
    scope.get('/v1/things/:id', async () => ({ thing: 'read' }));
    scope.put('/v1/things/:id', async () => ({ thing: 'written' }));
    scope.delete('/v1/things/:id', async () => ({ thing: 'deleted' }));
  });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  closers.push(() => app.close());
  return url;
}

function clientTls(identity?: TestCertificate, caFile = pki.caFile): ClientTls {
  const tls = createClientTls(
    clientTlsSchema.parse({
      caFile,
      ...(identity === undefined ? {} : { certFile: identity.certFile, keyFile: identity.keyFile }),
    }),
  );
  closers.push(() => tls.close());
  return tls;
}

async function call(url: string, tls: ClientTls, method: 'GET' | 'PUT' | 'DELETE') {
  const client = createJsonApiClient({
    url,
    timeoutMs: 5_000,
    maxResponseBytes: 64 * 1024,
    tls,
  });
  try {
    const response = await client.send({
      method,
      path: '/v1/things/1',
      ...(method === 'PUT' ? { body: {} } : {}),
    });
    if (response.statusCode === 200) return { status: 200, body: (await response.body.json()) as unknown };
    const error = await errorFromResponse(response.statusCode, response.body);
    return { status: response.statusCode, code: error.code, message: error.message, detail: error.detail };
  } finally {
    await client.close();
  }
}

describe('writes by identity', () => {
  it('with client certificates required: writers write, other identities only read, no certificate no handshake', async () => {
    const url = await serve('require', ['proxy', 'build-index']);
    const proxy = clientTls(pki.issue('proxy'));
    const agent = clientTls(pki.issue('agent', { sans: [] }));

    expect(await call(url, proxy, 'PUT')).toEqual({ status: 200, body: { thing: 'written' } });
    expect(await call(url, proxy, 'DELETE')).toEqual({ status: 200, body: { thing: 'deleted' } });
    expect(await call(url, agent, 'GET')).toEqual({ status: 200, body: { thing: 'read' } });
    expect(await call(url, agent, 'PUT')).toEqual({
      status: 403,
      code: 'KRAKEN_IDENTITY_FORBIDDEN',
      message: 'the client certificate (agent) names no identity allowed to write',
      detail: { identity: ['agent'] },
    });
    expect(await call(url, agent, 'DELETE')).toMatchObject({
      status: 403,
      code: 'KRAKEN_IDENTITY_FORBIDDEN',
    });

    await expect(call(url, clientTls(), 'GET')).rejects.toBeInstanceOf(ServiceUnreachableError);
    await expect(call(url, clientTls(), 'PUT')).rejects.toBeInstanceOf(ServiceUnreachableError);
  });

  it('matches DNS and URI SANs as well as the CN', async () => {
    const url = await serve('require', ['spiffe://kraken/build-index']);
    const buildIndex = clientTls(
      pki.issue('bi-0', { sans: ['DNS:bi-0.kraken', 'URI:spiffe://kraken/build-index'] }),
    );
    expect(await call(url, buildIndex, 'PUT')).toMatchObject({ status: 200 });
  });

  it('with client certificates optional: clients without one, or with one of another CA, only read', async () => {
    const url = await serve('optional', ['proxy']);
    const anonymous = clientTls();
    expect(await call(url, anonymous, 'GET')).toEqual({ status: 200, body: { thing: 'read' } });
    expect(await call(url, anonymous, 'PUT')).toEqual({
      status: 403,
      code: 'KRAKEN_IDENTITY_FORBIDDEN',
      message: 'writes need a verified client certificate',
      detail: undefined,
    });
    // A "proxy" certificate from a CA the server does not trust is no identity at all.
    const stranger = createTestPki(dir, 'other-ca').issue('proxy');
    expect(await call(url, clientTls(stranger), 'PUT')).toMatchObject({ status: 403 });
    expect(await call(url, clientTls(pki.issue('proxy', { file: 'proxy-2' })), 'PUT')).toMatchObject({
      status: 200,
    });
  });
});

describe('parseSubjectAltName', () => {
  it('reads plain and JSON-quoted values', () => {
    expect(
      parseSubjectAltName(
        'DNS:a.example, URI:spiffe://kraken/proxy, IP Address:10.0.0.1, DNS:"we,ird\\"name"',
      ),
    ).toEqual([
      ['DNS', 'a.example'],
      ['URI', 'spiffe://kraken/proxy'],
      ['IP Address', '10.0.0.1'],
      ['DNS', 'we,ird"name'],
    ]);
    expect(parseSubjectAltName('')).toEqual([]);
  });
});
