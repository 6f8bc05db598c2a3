import bcrypt from 'bcryptjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetrics } from '@kraken/service-kit';
import { createTestRegistry, type TestRegistry } from '../testing/test-registry.js';
import { testBlob, testImageManifest } from '../testing/oci-fixtures.js';
import { createManualClock } from '@kraken/foundation/testing';
import {
  createTestTokenIssuer,
  testHtpasswdLine,
  type TestTokenIssuer,
} from '../testing/test-credentials.js';
import { registryAuthConfigSchema } from './auth-config.js';
import { createRegistryAuth, type RegistryAuth } from './registry-auth.js';

const NOW = Date.UTC(2030, 0, 1);
const hash = (password: string) => bcrypt.hashSync(password, 4);
const files = new Map<string, string>([
  ['/auth/htpasswd', `alice:${hash('alice-pw')}\nbob:${hash('bob-pw')}\nroot:${hash('root-pw')}\n`],
  ['/auth/groups', 'admins: root\n'],
]);
const readFile = async (path: string) => {
  const text = files.get(path);
  if (text === undefined) throw Object.assign(new Error('missing'), { code: 'ENOENT' });
  return text;
};
const rules = [
  { repositories: ['team/**'], users: ['alice'], actions: ['pull', 'push'] },
  { repositories: ['team/*'], users: ['*'], actions: ['pull'] },
  { repositories: ['**'], groups: ['admins'], actions: ['pull', 'push', 'delete'] },
];

const basic = (user: string, password: string) => ({
  authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
});
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

async function startRegistry(auth: RegistryAuth): Promise<TestRegistry> {
  await auth.start();
  return createTestRegistry({ authorize: auth.authorize });
}

async function pushBlob(registry: TestRegistry, repo: string, headers: Record<string, string>, data = repo) {
  const blob = testBlob(data);
  return registry.app.inject({
    method: 'POST',
    url: `/v2/${repo}/blobs/uploads/?digest=${blob.digest.value}`,
    headers: { 'content-type': 'application/octet-stream', ...headers },
    payload: blob.bytes,
  });
}

describe('registry auth: htpasswd', () => {
  let auth: RegistryAuth;
  let registry: TestRegistry;
  const metrics = createMetrics('test', { defaultMetrics: false });

  beforeAll(async () => {
    const config = registryAuthConfigSchema.parse({
      htpasswd: { file: '/auth/htpasswd', groupsFile: '/auth/groups' },
      rules,
      anonymousPull: ['public/**'],
    });
    auth = createRegistryAuth(config, { readFile, now: () => NOW, metrics })!;
    registry = await startRegistry(auth);
  });
  afterAll(async () => {
    auth.close();
    await registry.close();
  });

  it('challenges an anonymous client at the base endpoint, in the spec error format', async () => {
    const res = await registry.app.inject({ method: 'GET', url: '/v2/' });
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Basic realm="kraken",charset="UTF-8"');
    expect(res.headers['docker-distribution-api-version']).toBe('registry/2.0');
    expect(res.json()).toEqual({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] });
    const ok = await registry.app.inject({ method: 'GET', url: '/v2/', headers: basic('bob', 'bob-pw') });
    expect(ok.statusCode).toBe(200);
  });

  it('refuses a wrong password and an unknown user alike, with 401', async () => {
    for (const headers of [basic('alice', 'nope'), basic('mallory', 'alice-pw')]) {
      const res = await pushBlob(registry, 'team/app', headers);
      expect(res.statusCode).toBe(401);
      expect(res.json().errors[0]).toEqual({ code: 'UNAUTHORIZED', message: 'invalid username or password' });
      expect(res.headers['www-authenticate']).toMatch(/^Basic /);
    }
    const other = await registry.app.inject({
      method: 'GET',
      url: '/v2/',
      headers: { authorization: 'Digest x' },
    });
    expect(other.statusCode).toBe(401);
  });

  it('lets a user push where a rule allows it, and answers 403 DENIED elsewhere', async () => {
    expect((await pushBlob(registry, 'team/app', basic('alice', 'alice-pw'))).statusCode).toBe(201);
    expect((await pushBlob(registry, 'team/app/web', basic('alice', 'alice-pw'))).statusCode).toBe(201);
    const denied = await pushBlob(registry, 'team/app', basic('bob', 'bob-pw'));
    expect(denied.statusCode).toBe(403);
    expect(denied.json().errors[0]).toEqual({
      code: 'DENIED',
      message: 'requested access (pull,push on team/app) is denied',
    });
    expect(denied.headers['www-authenticate']).toBeUndefined();
    expect((await pushBlob(registry, 'other/app', basic('alice', 'alice-pw'))).statusCode).toBe(403);
  });

  it('answers an anonymous push with 401 and the challenge, not 403', async () => {
    const res = await pushBlob(registry, 'team/app', {});
    expect(res.statusCode).toBe(401);
    expect(res.json().errors[0].code).toBe('UNAUTHORIZED');
  });

  it('allows pulls by rule, by group, and anonymously where anonymousPull says', async () => {
    await pushBlob(registry, 'public/tools', basic('root', 'root-pw'), 'team/app');
    const blob = testBlob('team/app');
    const get = (repo: string, headers: Record<string, string> = {}) =>
      registry.app.inject({ method: 'GET', url: `/v2/${repo}/blobs/${blob.digest.value}`, headers });
    expect((await get('team/app', basic('bob', 'bob-pw'))).statusCode).toBe(200);
    expect((await get('team/app/web', basic('bob', 'bob-pw'))).statusCode).toBe(403);
    expect((await get('team/app', basic('root', 'root-pw'))).statusCode).toBe(200);
    expect((await get('team/app')).statusCode).toBe(401);
    expect((await get('public/tools')).statusCode).toBe(200);
    // Some clients answer a Basic challenge with empty credentials when they have none.
    expect((await get('public/tools', basic('', ''))).statusCode).toBe(200);
    const head = await registry.app.inject({
      method: 'HEAD',
      url: `/v2/team/app/blobs/${blob.digest.value}`,
    });
    expect(head.statusCode).toBe(401);
    expect(head.headers['www-authenticate']).toMatch(/^Basic /);
  });

  it('needs delete to delete, and gives the catalog to those who may pull everything', async () => {
    const config = testBlob('{}');
    await pushBlob(registry, 'team/app', basic('alice', 'alice-pw'), '{}');
    const manifest = testImageManifest({ config });
    const put = await registry.app.inject({
      method: 'PUT',
      url: '/v2/team/app/manifests/v1',
      headers: { 'content-type': manifest.mediaType, ...basic('alice', 'alice-pw') },
      payload: manifest.bytes,
    });
    expect(put.statusCode).toBe(201);
    const del = (headers: Record<string, string>) =>
      registry.app.inject({ method: 'DELETE', url: '/v2/team/app/manifests/v1', headers });
    expect((await del(basic('alice', 'alice-pw'))).statusCode).toBe(403);
    expect((await del(basic('root', 'root-pw'))).statusCode).toBe(202);

    const catalog = (headers: Record<string, string>) =>
      registry.app.inject({ method: 'GET', url: '/v2/_catalog', headers });
    expect((await catalog(basic('root', 'root-pw'))).statusCode).toBe(200);
    expect((await catalog(basic('alice', 'alice-pw'))).statusCode).toBe(403);
    expect((await catalog({})).statusCode).toBe(401);
  });

  it('mounts only from a repository the caller may read, and falls back to an upload otherwise', async () => {
    await pushBlob(registry, 'vault/x', basic('root', 'root-pw'), 'shared layer');
    await pushBlob(registry, 'team/base', basic('root', 'root-pw'), 'shared layer');
    const { digest } = testBlob('shared layer');
    const mount = (from: string) =>
      registry.app.inject({
        method: 'POST',
        url: `/v2/team/app/blobs/uploads/?mount=${digest.value}&from=${from}`,
        headers: basic('alice', 'alice-pw'),
      });
    expect((await mount('vault/x')).statusCode).toBe(202);
    expect((await mount('team/base')).statusCode).toBe(201);
  });

  it('counts decisions without naming users', async () => {
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/kraken_test_registry_auth_decisions_total\{scheme="basic",result="denied"\} \d+/);
    expect(text).toMatch(
      /kraken_test_registry_auth_decisions_total\{scheme="anonymous",result="unauthorized"\}/,
    );
    expect(text).not.toContain('alice');
  });

  it('refuses to start on an htpasswd file with another kind of hash, naming the line only', async () => {
    files.set('/auth/weak', `alice:${hash('x')}\nbob:$apr1$Ll6y4C1A$L9e9kR9WdUQH1uUM0Tlyn/\n`);
    const weak = createRegistryAuth(registryAuthConfigSchema.parse({ htpasswd: { file: '/auth/weak' } }), {
      readFile,
    })!;
    const err = await weak.start().then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err?.message).toMatch(/^\/auth\/weak:2: the password of user "bob" is an MD5 hash/);
    expect(err?.message).not.toContain('Ll6y4C1A');
  });
});

describe('registry auth: reloads', () => {
  it('applies a changed htpasswd file, and keeps the last good one when the change is broken', async () => {
    const clock = createManualClock(NOW);
    files.set('/auth/rotating', `${testHtpasswdLine('alice', 'old-pw')}\n`);
    const config = registryAuthConfigSchema.parse({
      htpasswd: { file: '/auth/rotating' },
      rules: [{ repositories: ['**'], users: ['*'], actions: ['pull'] }],
    });
    const auth = createRegistryAuth(config, { readFile, now: clock.now, timers: clock })!;
    const registry = await startRegistry(auth);
    const status = async (user: string, password: string) =>
      (await registry.app.inject({ method: 'GET', url: '/v2/', headers: basic(user, password) })).statusCode;
    expect(await status('alice', 'old-pw')).toBe(200);
    files.set(
      '/auth/rotating',
      `${testHtpasswdLine('alice', 'new-pw')}\n${testHtpasswdLine('carol', 'c-pw')}\n`,
    );
    await clock.advance(10_000);
    expect(await status('alice', 'old-pw')).toBe(401);
    expect(await status('alice', 'new-pw')).toBe(200);
    files.set('/auth/rotating', 'carol:$apr1$Ll6y4C1A$L9e9kR9WdUQH1uUM0Tlyn/\n');
    await clock.advance(10_000);
    expect(await status('carol', 'c-pw')).toBe(200);
    auth.close();
    await registry.close();
  });
});

describe('registry auth: bearer tokens', () => {
  let issuer: TestTokenIssuer;
  let auth: RegistryAuth;
  let registry: TestRegistry;
  const now = Math.floor(NOW / 1000);

  beforeAll(async () => {
    issuer = await createTestTokenIssuer({ issuer: 'https://auth.test', service: 'registry.test' });
    files.set('/auth/issuer.pem', issuer.publicKeyPem);
    const config = registryAuthConfigSchema.parse({
      token: {
        realm: 'https://auth.test/token',
        service: 'registry.test',
        issuer: 'https://auth.test',
        publicKeyFile: '/auth/issuer.pem',
        groupsClaim: 'groups',
      },
      rules: [
        { repositories: ['**'], users: ['*'], actions: ['pull', 'push'] },
        { repositories: ['**'], groups: ['admins'], actions: ['delete'] },
      ],
    });
    auth = createRegistryAuth(config, { readFile, now: () => NOW })!;
    registry = await startRegistry(auth);
  });
  afterAll(async () => {
    auth.close();
    await registry.close();
  });

  const token = (name: string, actions: string[], extra: { expiresAt?: number; groups?: string[] } = {}) =>
    issuer.sign({ subject: 'ci', access: [{ type: 'repository', name, actions }], now, ...extra });

  it('challenges with the token realm, service and the scope the request needs', async () => {
    const res = await pushBlob(registry, 'team/app', {});
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toBe(
      'Bearer realm="https://auth.test/token",service="registry.test",scope="repository:team/app:pull,push"',
    );
    const base = await registry.app.inject({ method: 'GET', url: '/v2/' });
    expect(base.headers['www-authenticate']).toBe(
      'Bearer realm="https://auth.test/token",service="registry.test"',
    );
    const catalog = await registry.app.inject({ method: 'GET', url: '/v2/_catalog' });
    expect(catalog.headers['www-authenticate']).toMatch(/scope="registry:catalog:\*"$/);
  });

  it('pushes with a token for the repository', async () => {
    const res = await pushBlob(registry, 'team/app', bearer(await token('team/app', ['pull', 'push'])));
    expect(res.statusCode).toBe(201);
  });

  it('answers 401 invalid_token for an expired token', async () => {
    const expired = await token('team/app', ['pull', 'push'], { expiresAt: now - 3600 });
    const res = await pushBlob(registry, 'team/app', bearer(expired));
    expect(res.statusCode).toBe(401);
    expect(res.json().errors[0]).toEqual({
      code: 'UNAUTHORIZED',
      message: 'invalid token: the token has expired',
    });
    expect(res.headers['www-authenticate']).toMatch(
      /scope="repository:team\/app:pull,push",error="invalid_token"$/,
    );
  });

  it('answers 403 DENIED to a token for another repository or without push', async () => {
    const other = await pushBlob(registry, 'team/app', bearer(await token('team/other', ['pull', 'push'])));
    expect(other.statusCode).toBe(403);
    expect(other.json().errors[0].code).toBe('DENIED');
    const pullOnly = await pushBlob(registry, 'team/app', bearer(await token('team/app', ['pull'])));
    expect(pullOnly.statusCode).toBe(403);
    const wildcard = await pushBlob(registry, 'team/app', bearer(await token('team/app', ['*'])));
    expect(wildcard.statusCode).toBe(201);
  });

  it('needs both the token and the rules: delete takes a token that grants it and a group that may', async () => {
    const config = testBlob('{"token":1}');
    const manifest = testImageManifest({ config });
    const admin = await token('team/app', ['*'], { groups: ['admins'] });
    await pushBlob(registry, 'team/app', bearer(admin), '{"token":1}');
    const put = await registry.app.inject({
      method: 'PUT',
      url: `/v2/team/app/manifests/${manifest.digest.value}`,
      headers: { 'content-type': manifest.mediaType, ...bearer(admin) },
      payload: manifest.bytes,
    });
    expect(put.statusCode).toBe(201);
    const del = (t: string) =>
      registry.app.inject({
        method: 'DELETE',
        url: `/v2/team/app/manifests/${manifest.digest.value}`,
        ...{ headers: bearer(t) },
      });
    expect((await del(await token('team/app', ['*']))).statusCode).toBe(403);
    expect((await del(await token('team/app', ['pull', 'push'], { groups: ['admins'] }))).statusCode).toBe(
      403,
    );
    expect((await del(admin)).statusCode).toBe(202);
  });

  it('accepts no Basic credentials when no htpasswd is configured', async () => {
    const res = await registry.app.inject({ method: 'GET', url: '/v2/', headers: basic('ci', 'pw') });
    expect(res.statusCode).toBe(401);
  });
});
