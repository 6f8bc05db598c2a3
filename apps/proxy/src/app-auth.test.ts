import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digestOf } from '@kraken/oci-content';
import { startInProcessServices, type InProcessServices } from '@kraken/build-index/testing';
import { createTestTokenIssuer, testHtpasswdLine, type TestTokenIssuer } from '@kraken/registry-api/testing';
import { parseConfig, silentLogger } from '@kraken/service-kit';
import { createApp, type App } from './app.js';
import { configSchema } from './config.js';

let services: InProcessServices;
let issuer: TestTokenIssuer;
let dir: string;
let app: App;

function proxyConfig(auth: unknown) {
  return parseConfig(configSchema, {
    listen: { port: 0 },
    registry: { uploads: { dir: join(dir, 'uploads') } },
    cache: { blobDir: join(dir, 'blob-cache') },
    origins: { nodes: [services.originUrl] },
    buildIndex: { nodes: [services.buildIndexUrl] },
    auth,
  });
}

beforeAll(async () => {
  services = await startInProcessServices();
  dir = await mkdtemp(join(tmpdir(), 'kraken-proxy-auth-'));
  issuer = await createTestTokenIssuer({ issuer: 'https://auth.test', service: 'proxy.test' });
  await writeFile(join(dir, 'htpasswd'), `${testHtpasswdLine('alice', 'alice-pw')}\n`);
  await writeFile(join(dir, 'issuer.pem'), issuer.publicKeyPem);
  app = createApp(
    proxyConfig({
      htpasswd: { file: join(dir, 'htpasswd') },
      token: {
        realm: 'https://auth.test/token',
        service: 'proxy.test',
        issuer: 'https://auth.test',
        publicKeyFile: join(dir, 'issuer.pem'),
      },
      rules: [{ repositories: ['team/**'], users: ['*'], actions: ['pull', 'push'] }],
    }),
    { logger: silentLogger() },
  );
  await app.start();
});

afterAll(async () => {
  await app?.close();
  await services.close();
  await rm(dir, { recursive: true, force: true });
});

function push(repo: string, headers: Record<string, string> = {}) {
  const content = Buffer.from(`content of ${repo}`);
  return fetch(`${app.url}/v2/${repo}/blobs/uploads/?digest=${digestOf(content).value}`, {
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream', ...headers },
    body: content,
  });
}

describe('proxy with auth', () => {
  it('challenges for a token, and accepts Basic credentials and tokens', async () => {
    const anonymous = await push('team/app');
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toBe(
      'Bearer realm="https://auth.test/token",service="proxy.test",scope="repository:team/app:pull,push"',
    );
    const basic = `Basic ${Buffer.from('alice:alice-pw').toString('base64')}`;
    expect((await push('team/app', { authorization: basic })).status).toBe(201);
    const token = await issuer.sign({
      subject: 'ci',
      access: [{ type: 'repository', name: 'team/web', actions: ['pull', 'push'] }],
    });
    expect((await push('team/web', { authorization: `Bearer ${token}` })).status).toBe(201);
    expect((await push('team/app', { authorization: `Bearer ${token}` })).status).toBe(403);
    expect((await push('other/app', { authorization: basic })).status).toBe(403);
  });

  it('keeps the operational endpoints open and secret-free', async () => {
    expect((await fetch(`${app.url}/health`)).status).toBe(200);
    const readiness = await (await fetch(`${app.url}/readiness`)).text();
    expect(readiness).not.toMatch(/alice|htpasswd|issuer/);
    const metrics = await (await fetch(`${app.url}/metrics`)).text();
    expect(metrics).toMatch(
      /kraken_proxy_registry_auth_decisions_total\{scheme="bearer",result="denied"\} 1/,
    );
    expect(metrics).not.toContain('alice');
  });

  it('does not start with an htpasswd file of weak hashes, naming the file and line', async () => {
    const file = join(dir, 'weak-htpasswd');
    await writeFile(file, 'bob:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=\n');
    const weak = createApp(proxyConfig({ htpasswd: { file } }), { logger: silentLogger() });
    const failure = await weak.start().then(
      () => 'started',
      (err: unknown) => (err as Error).message,
    );
    await weak.close();
    expect(failure).toBe(
      `${file}:1: the password of user "bob" is a SHA-1 hash ({SHA}); only bcrypt ($2y$, $2b$) is accepted (create it with htpasswd -B)`,
    );
  });

  it('names the bad auth key in the config', () => {
    expect(() => proxyConfig({ token: { realm: 'https://a/token', service: 's', issuer: 'i' } })).toThrow(
      /auth\.token: set exactly one of publicKeyFile and jwksUrl/,
    );
    expect(() => proxyConfig({ rules: [{ repositories: ['**'], users: ['*'], actions: ['pull'] }] })).toThrow(
      /auth: rules and anonymousPull need htpasswd or token/,
    );
  });
});
