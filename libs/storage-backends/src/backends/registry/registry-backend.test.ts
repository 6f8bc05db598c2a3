import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { digestOf, type Digest } from '@kraken/oci-content';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blobKey } from '../../keys/blob-key.js';
import {
  InvalidKeyError,
  InvalidRangeError,
  ObjectNotFoundError,
  ReadOnlyBackendError,
  RegistryAuthError,
  StorageUnavailableError,
} from '../../errors.js';
import { createRegistryBackend, type RegistryBackendOptions } from './registry-backend.js';
import { registryBackendSchema } from './registry-config.js';
import { startDockerRegistry, type DockerRegistry } from '../../testing/docker-registry-process.js';
import { describeStorageBackendConformance } from '../../testing/backend-conformance.js';
import { readAll } from '../../testing/generated-stream.js';
import { pushBlob, pushImage, type Authorize } from '../../testing/registry-seed.js';
import { startTokenServer, type TokenServer } from '../../testing/registry-token-server.js';
import { createTokenCertificates } from '../../testing/token-certificates.js';

const USER = 'kraken';
const PASS = 'pull-secret';
const credentials = { username: USER, password: PASS };
const basic = `Basic ${Buffer.from(`${USER}:${PASS}`).toString('base64')}`;
const REPO = 'library/app';
const OTHER = 'team/other';
const layer = Buffer.from(Array.from({ length: 200 * 1024 }, (_, i) => (i * 7) % 251));
const tagKey = (repo: string, tag: string) => `repositories/${repo}/_tags/${tag}`;

type Mode = 'htpasswd' | 'token';
interface Setup {
  registry: DockerRegistry;
  authorize: Authorize;
  tokens?: TokenServer;
  manifest: Digest;
  layer: Digest;
}

let dir: string;
const setups = new Map<Mode, Setup>();

async function seed(registry: DockerRegistry, authorize: Authorize) {
  const image = await pushImage({
    registry: registry.url,
    repository: REPO,
    layer,
    tags: ['v1', 'v2', 'latest'],
    authorize,
  });
  await pushBlob({ registry: registry.url, repository: OTHER, content: Buffer.from('other'), authorize });
  return image;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'registry-backend-'));
  const htpasswd = (async () => {
    const registry = await startDockerRegistry({
      dir: join(dir, 'htpasswd'),
      auth: { kind: 'htpasswd', username: USER, password: PASS },
    });
    const image = await seed(registry, async () => basic);
    setups.set('htpasswd', {
      registry,
      authorize: async () => basic,
      manifest: image.manifest,
      layer: image.layer,
    });
  })();
  const token = (async () => {
    const certificates = await createTokenCertificates(dir);
    const service = 'kraken-test-registry';
    const issuer = 'kraken-test-issuer';
    const tokens = await startTokenServer({ certificates, issuer, service, username: USER, password: PASS });
    const registry = await startDockerRegistry({
      dir: join(dir, 'token'),
      auth: {
        kind: 'token',
        realm: tokens.realm,
        service,
        issuer,
        rootCertBundle: certificates.caBundlePath,
      },
    });
    const authorize: Authorize = async (scope) => {
      const res = await fetch(`${tokens.realm}?service=${service}&scope=${encodeURIComponent(scope)}`, {
        headers: { authorization: basic },
      });
      return `Bearer ${((await res.json()) as { token: string }).token}`;
    };
    const image = await seed(registry, authorize);
    setups.set('token', { registry, tokens, authorize, manifest: image.manifest, layer: image.layer });
  })();
  await Promise.all([htpasswd, token]);
}, 60_000);

afterAll(async () => {
  await Promise.all([...setups.values()].flatMap((s) => [s.registry.stop(), s.tokens?.close()]));
  await rm(dir, { recursive: true, force: true });
});

function setup(mode: Mode): Setup {
  const s = setups.get(mode);
  if (s === undefined) throw new Error(`${mode} registry not started`);
  return s;
}

async function using<T>(
  options: RegistryBackendOptions,
  body: (b: ReturnType<typeof createRegistryBackend>) => Promise<T>,
) {
  const backend = createRegistryBackend(options);
  try {
    return await body(backend);
  } finally {
    await backend.close();
  }
}

describe.each(['htpasswd', 'token'] as const)('registry backend with %s auth', (mode) => {
  const url = () => setup(mode).registry.url;

  it('stats and reads blobs of its repository, whole and by range', () =>
    using({ url: url(), repository: REPO, credentials }, async (backend) => {
      const key = blobKey(setup(mode).layer);
      expect((await backend.stat(key))?.size).toBe(layer.length);
      // Buffer.equals: a deep equality of 200 KiB costs seconds.
      expect((await readAll(await backend.read(key))).equals(layer)).toBe(true);
      const range = await readAll(await backend.read(key, { start: 1000, end: 70_000 }));
      expect(range.equals(layer.subarray(1000, 70_001))).toBe(true);
      expect(await readAll(await backend.read(key, { start: layer.length - 2, end: 1e12 }))).toEqual(
        layer.subarray(-2),
      );
      await expect(backend.read(key, { start: layer.length, end: layer.length + 5 })).rejects.toBeInstanceOf(
        InvalidRangeError,
      );
      const missing = blobKey(digestOf('missing'));
      expect(await backend.stat(missing)).toBeUndefined();
      await expect(backend.read(missing)).rejects.toBeInstanceOf(ObjectNotFoundError);
    }));

  it('takes the repository of a blob from the namespace when none is configured', () =>
    using({ url: url(), credentials }, async (backend) => {
      const key = blobKey(setup(mode).layer);
      await expect(backend.stat(key)).rejects.toBeInstanceOf(InvalidKeyError);
      expect((await backend.forNamespace(REPO).stat(key))?.size).toBe(layer.length);
      expect(await backend.forNamespace(OTHER).stat(key)).toBeUndefined();
      expect((await backend.forNamespace(OTHER).stat(blobKey(digestOf('other'))))?.size).toBe(5);
      expect(() => backend.forNamespace('Not/A Repo')).toThrow(InvalidKeyError);
    }));

  it('serves tags as build-index tag records', () =>
    using({ url: url(), credentials }, async (backend) => {
      const record = JSON.parse((await readAll(await backend.read(tagKey(REPO, 'v1')))).toString()) as {
        digest: string;
        updatedAt: string;
      };
      expect(record.digest).toBe(setup(mode).manifest.value);
      expect(Number.isNaN(Date.parse(record.updatedAt))).toBe(false);
      const size = (await backend.stat(tagKey(REPO, 'v1')))?.size;
      expect(size).toBe(JSON.stringify(record).length);
      expect((await readAll(await backend.read(tagKey(REPO, 'v1'), { start: 0, end: 9 }))).toString()).toBe(
        '{"digest":',
      );
      expect(await backend.stat(tagKey(REPO, 'nope'))).toBeUndefined();
      expect(await backend.stat(tagKey('no/such-repo', 'v1'))).toBeUndefined();
      await expect(backend.read(tagKey(REPO, 'nope'))).rejects.toBeInstanceOf(ObjectNotFoundError);
      expect(await backend.stat('something/else')).toBeUndefined();
    }));

  it('lists tags in pages and nothing else', () =>
    using({ url: url(), credentials }, async (backend) => {
      const prefix = `repositories/${REPO}/_tags/`;
      const first = await backend.list({ prefix, limit: 2 });
      expect(first.keys).toEqual([tagKey(REPO, 'latest'), tagKey(REPO, 'v1')]);
      expect(first.continuationToken).toBeDefined();
      const second = await backend.list({
        prefix,
        limit: 2,
        ...(first.continuationToken ? { continuationToken: first.continuationToken } : {}),
      });
      expect(second.keys).toEqual([tagKey(REPO, 'v2')]);
      expect((await backend.list({ prefix: `${prefix}v` })).keys).toEqual([
        tagKey(REPO, 'v1'),
        tagKey(REPO, 'v2'),
      ]);
      expect((await backend.list({ prefix: 'repositories/no/such-repo/_tags/' })).keys).toEqual([]);
      expect((await backend.list({ prefix: 'blobs/' })).keys).toEqual([]);
      await expect(backend.list({ prefix, continuationToken: tagKey(OTHER, 'x') })).rejects.toBeInstanceOf(
        InvalidKeyError,
      );
    }));

  it('is read-only', () =>
    using({ url: url(), repository: REPO, credentials }, async (backend) => {
      const key = blobKey(setup(mode).layer);
      await expect(backend.write(key, Readable.from([layer]))).rejects.toBeInstanceOf(ReadOnlyBackendError);
      await expect(backend.delete(key)).rejects.toBeInstanceOf(ReadOnlyBackendError);
      await expect(backend.delete('../x')).rejects.toBeInstanceOf(InvalidKeyError);
    }));

  it('is ready with good credentials and names itself when credentials are bad or missing', async () => {
    await using({ url: url(), credentials }, (backend) => backend.check());
    await using(
      { url: url(), repository: REPO, name: 'upstream', credentials: { username: USER, password: 'wrong' } },
      async (backend) => {
        const checked = backend.check();
        await expect(checked).rejects.toBeInstanceOf(StorageUnavailableError);
        await expect(checked).rejects.toThrow('storage backend upstream is unavailable');
        await expect(backend.stat(blobKey(setup(mode).layer))).rejects.toBeInstanceOf(RegistryAuthError);
      },
    );
    await using({ url: url() }, async (backend) => {
      await expect(backend.check()).rejects.toThrow(/registry:http:\/\/127\.0\.0\.1:\d+ is unavailable/);
    });
  });
});

describe('registry backend token handling', () => {
  it('caches a token per scope until it expires', async () => {
    const { registry, tokens } = setup('token');
    let now = 1_000_000;
    await using({ url: registry.url, credentials, now: () => now }, async (backend) => {
      const view = backend.forNamespace(REPO);
      const key = blobKey(setup('token').layer);
      const before = tokens?.issued.length ?? 0;
      await view.stat(key);
      await view.stat(key);
      await view.read(tagKey(REPO, 'v1')).then(readAll);
      expect(tokens?.issued.slice(before)).toEqual([`repository:${REPO}:pull`]);
      now += 299_000;
      await view.stat(key);
      expect(tokens?.issued.length).toBe(before + 2);
    });
  });

  it('gets exactly one fresh token when the registry refuses the one it has', async () => {
    const { registry, tokens } = setup('token');
    await using({ url: registry.url, credentials }, async (backend) => {
      await backend.check();
      const before = tokens?.issued.length ?? 0;
      tokens?.grantNothing(1);
      expect((await backend.forNamespace(REPO).stat(blobKey(setup('token').layer)))?.size).toBe(layer.length);
      expect(tokens?.issued.length).toBe(before + 2);
      tokens?.grantNothing(2);
      await expect(backend.forNamespace(OTHER).stat(blobKey(digestOf('other')))).rejects.toBeInstanceOf(
        RegistryAuthError,
      );
      tokens?.grantNothing(0);
    });
  });
});

describe('registry backend config', () => {
  it('parses a registry with credentials and a fixed repository', () => {
    expect(
      registryBackendSchema.parse({
        type: 'registry',
        url: 'https://registry.example',
        repository: 'library/redis',
        username: 'u',
        password: 'p',
      }),
    ).toMatchObject({ repository: 'library/redis', headers: {} });
  });

  it.each([
    [{ url: 'ftp://registry.example' }],
    [{ url: 'https://registry.example', repository: 'UPPER/case' }],
    [{ url: 'https://registry.example', username: 'u' }],
    [{ url: 'https://registry.example', token: 'x' }],
  ])('rejects %j', (fields) => {
    expect(registryBackendSchema.safeParse({ type: 'registry', ...fields }).success).toBe(false);
  });
});

for (const mode of ['htpasswd', 'token'] as const) {
  describeStorageBackendConformance(
    `registry (${mode})`,
    async () => {
      const { registry } = setup(mode);
      return {
        backend: createRegistryBackend({ url: registry.url, repository: 'conformance/blobs', credentials }),
        leftovers: async () => [],
        unavailableBackends: () => [
          createRegistryBackend({ url: registry.url, credentials: { username: USER, password: 'wrong' } }),
          createRegistryBackend({ url: 'http://127.0.0.1:1', credentials }),
        ],
        cleanup: async () => {},
      };
    },
    {
      capabilities: {
        writable: false,
        keyFor: (content) => blobKey(digestOf(content)),
        async seed(_harness, content) {
          const { registry, authorize } = setup(mode);
          await pushBlob({ registry: registry.url, repository: 'conformance/blobs', content, authorize });
        },
      },
    },
  );
}
