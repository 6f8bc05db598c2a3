/**
 * The registry backend against a scripted registry, for protocol paths that Debian's
 * docker-registry does not take: redirects to storage, paginated tag lists, missing
 * Docker-Content-Digest, odd challenges.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { digestOf } from '@kraken/oci-content';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blobKey } from '../../keys/blob-key.js';
import { RegistryAuthError, UpstreamResponseError } from '../../errors.js';
import { parseChallenge } from './registry-auth.js';
import { manifestKey } from './registry-keys.js';
import { createRegistryBackend } from './registry-backend.js';
import { readAll } from '../../testing/generated-stream.js';
import { startHttpFileServer, type HttpFileServer } from '../../testing/http-file-server.js';

const blob = Buffer.from('blob stored behind a redirect');
const digest = digestOf(blob);
const manifest = Buffer.from('{"schemaVersion":2}');
const basic = `Basic ${Buffer.from('u:p').toString('base64')}`;

describe('registry backend protocol', () => {
  const manifestAccepts: string[] = [];
  let dir: string;
  let storage: HttpFileServer;
  let registry: HttpFileServer;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'registry-protocol-'));
    await writeFile(join(dir, digest.hex), blob);
    storage = await startHttpFileServer({ root: dir });
    const routes: Record<string, (req: IncomingMessage, res: ServerResponse) => void> = {
      [`/v2/repo/blobs/${digest.value}`]: (_req, res) =>
        res.writeHead(307, { location: `${storage.url}/${digest.hex}?X-Signature=abc` }).end(),
      '/v2/repo/manifests/v1': (req, res) => {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': manifest.length });
        res.end(req.method === 'HEAD' ? undefined : manifest);
      },
      [`/v2/repo/manifests/${digestOf(manifest).value}`]: (req, res) => {
        manifestAccepts.push(req.headers.accept ?? '');
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': manifest.length });
        res.end(req.method === 'HEAD' ? undefined : manifest);
      },
      '/v2/repo/tags/list': (req, res) => {
        const last = new URL(req.url ?? '', 'http://x').searchParams.get('last');
        const pages: Record<string, [string[], string | undefined]> = {
          '': [['b', 'c'], '</v2/repo/tags/list?last=c&n=2>; rel="next"'],
          c: [['a', 'bad tag!'], undefined],
        };
        const [tags, link] = pages[last ?? ''] ?? [[], undefined];
        res.writeHead(200, { 'content-type': 'application/json', ...(link ? { link } : {}) });
        res.end(JSON.stringify({ name: 'repo', tags }));
      },
      '/v2/elsewhere/tags/list': (_req, res) =>
        res.writeHead(200, { link: '<https://evil.example/v2/x/tags/list>; rel="next"' }).end('{"tags":[]}'),
      '/v2/weird/tags/list': (_req, res) => res.writeHead(401, { 'www-authenticate': 'Negotiate abc' }).end(),
    };
    registry = await startHttpFileServer({
      root: dir,
      intercept(req, res) {
        if (req.headers.authorization !== basic) {
          res.writeHead(401, { 'www-authenticate': 'Basic realm="test"' }).end();
          return true;
        }
        const route = routes[new URL(req.url ?? '', 'http://x').pathname];
        if (route) route(req, res);
        else res.writeHead(404).end();
        return true;
      },
    });
  });
  afterAll(async () => {
    await Promise.all([storage.close(), registry.close()]);
    await rm(dir, { recursive: true, force: true });
  });

  const make = () =>
    createRegistryBackend({
      url: registry.url,
      repository: 'repo',
      credentials: { username: 'u', password: 'p' },
    });

  it('follows a redirect to storage without sending the registry credentials there', async () => {
    const backend = make();
    try {
      expect((await readAll(await backend.read(blobKey(digest)))).toString()).toBe(blob.toString());
      expect((await readAll(await backend.read(blobKey(digest), { start: 5, end: 10 }))).toString()).toBe(
        'stored',
      );
      const toStorage = storage.requests.filter((r) => r.url.startsWith(`/${digest.hex}`));
      expect(toStorage).toHaveLength(2);
      expect(toStorage.every((r) => r.headers.authorization === undefined)).toBe(true);
    } finally {
      await backend.close();
    }
  });

  it('digests the manifest itself when the registry does not name it', async () => {
    const backend = make();
    try {
      const record = JSON.parse(
        (await readAll(await backend.read('repositories/repo/_tags/v1'))).toString(),
      ) as {
        digest: string;
        updatedAt: string;
      };
      expect(record).toEqual({ digest: digestOf(manifest).value, updatedAt: new Date(0).toISOString() });
    } finally {
      await backend.close();
    }
  });

  it('reads manifests by digest from the manifests endpoint, whole and by range', async () => {
    const backend = make();
    const key = manifestKey(digestOf(manifest));
    try {
      expect(await backend.stat(key)).toMatchObject({ size: manifest.length });
      expect((await readAll(await backend.read(key))).toString()).toBe(manifest.toString());
      expect((await readAll(await backend.read(key, { start: 2, end: 14 }))).toString()).toBe(
        'schemaVersion',
      );
      expect(manifestAccepts.every((a) => a.includes('application/vnd.oci.image.index.v1+json'))).toBe(true);
      const missing = manifestKey(digestOf(Buffer.from('absent')));
      expect(await backend.stat(missing)).toBeUndefined();
      await expect(backend.read(missing)).rejects.toMatchObject({ code: 'KRAKEN_OBJECT_NOT_FOUND' });
    } finally {
      await backend.close();
    }
  });

  it('gathers paginated tag lists and pages them in lexical order', async () => {
    const backend = make();
    try {
      const prefix = 'repositories/repo/_tags/';
      const first = await backend.list({ prefix, limit: 2 });
      expect(first).toEqual({ keys: [`${prefix}a`, `${prefix}b`], continuationToken: `${prefix}b` });
      const rest = await backend.list({ prefix, limit: 2, continuationToken: `${prefix}b` });
      expect(rest).toEqual({ keys: [`${prefix}c`], continuationToken: undefined });
      await expect(backend.list({ prefix: 'repositories/elsewhere/_tags/' })).rejects.toBeInstanceOf(
        UpstreamResponseError,
      );
    } finally {
      await backend.close();
    }
  });

  it('gives every concurrent first request its try with the credentials', async () => {
    const backend = make();
    try {
      const stats = await Promise.all([1, 2, 3].map(() => backend.stat('repositories/repo/_tags/v1')));
      expect(stats.every((s) => s !== undefined)).toBe(true);
    } finally {
      await backend.close();
    }
  });

  it('refuses challenges it cannot answer', async () => {
    const backend = make();
    try {
      await expect(backend.list({ prefix: 'repositories/weird/_tags/' })).rejects.toBeInstanceOf(
        RegistryAuthError,
      );
      const anonymous = createRegistryBackend({ url: registry.url, repository: 'repo' });
      await expect(anonymous.stat(blobKey(digest))).rejects.toThrow('none are configured');
      await anonymous.close();
    } finally {
      await backend.close();
    }
  });
});

describe('parseChallenge', () => {
  it('reads the scheme and quoted or bare parameters', () => {
    expect(
      parseChallenge(
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:a/b:pull,push"',
      ),
    ).toEqual({
      scheme: 'bearer',
      params: {
        realm: 'https://auth.docker.io/token',
        service: 'registry.docker.io',
        scope: 'repository:a/b:pull,push',
      },
    });
    expect(parseChallenge('Basic realm=registry')).toEqual({
      scheme: 'basic',
      params: { realm: 'registry' },
    });
    expect(parseChallenge('Bearer realm="a\\"b"')?.params['realm']).toBe('a"b');
    expect(parseChallenge(undefined)).toBeUndefined();
    expect(parseChallenge('')).toBeUndefined();
  });
});
