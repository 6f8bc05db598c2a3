import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { digestOf, MediaType } from '@kraken/oci-content';
import { createMetrics, silentLogger, type Metrics } from '@kraken/service-kit';
import { createFilesystemBackend } from '@kraken/storage-backends';
import type { BuildIndexClient } from '../client/client-types.js';
import { createBuildIndexClient } from '../client/build-index-client.js';
import { createBuildIndexRoutes } from './routes.js';
import { ManifestRejectedError, TagRejectedError } from '../errors.js';
import { RemoteApiError } from '@kraken/service-kit';
import {
  createFakeOrigin,
  imageIndex,
  imageManifest,
  storeImage,
  type FakeOrigin,
} from '../testing/fixtures.js';

let dir: string;
let app: FastifyInstance;
let origin: FakeOrigin;
let metrics: Metrics;
let client: BuildIndexClient;
let clock: Date;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'build-index-routes-'));
  origin = createFakeOrigin();
  metrics = createMetrics('build-index', { defaultMetrics: false });
  clock = new Date('2030-01-02T03:04:05.000Z');
  app = Fastify({ routerOptions: { maxParamLength: 1024 } });
  await app.register(
    createBuildIndexRoutes({
      backend: createFilesystemBackend({ root: dir }),
      origin,
      logger: silentLogger(),
      metrics,
      now: () => clock,
    }),
  );
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  client = createBuildIndexClient({ url });
});

afterEach(async () => {
  await client.close();
  await app.close();
  await rm(dir, { recursive: true, force: true });
});

function pushedImage(layers: string[] = ['layer-a', 'layer-b'], config = 'config') {
  const image = imageManifest({ config, layers });
  storeImage(origin, image);
  return image;
}

describe('build-index tags', () => {
  it('round-trips a tag through put, get, list and delete', async () => {
    const image = pushedImage();
    expect(await client.getTag('library/app', 'v1')).toBeUndefined();
    expect(await client.listTags('library/app')).toBeUndefined();

    await client.putTag('library/app', 'v1', image.digest);
    expect((await client.getTag('library/app', 'v1'))?.value).toBe(image.digest.value);
    expect(await client.listTags('library/app')).toEqual(['v1']);
    expect(await client.listRepositories()).toEqual(['library/app']);

    expect(await client.deleteTag('library/app', 'v1')).toBe(true);
    expect(await client.deleteTag('library/app', 'v1')).toBe(false);
    expect(await client.getTag('library/app', 'v1')).toBeUndefined();
    // The repository stays known, with no tags.
    expect(await client.listTags('library/app')).toEqual([]);
  });

  it('is last-writer-wins and stores the time and version of the write', async () => {
    const first = pushedImage(['one']);
    const second = pushedImage(['two']);
    await client.putTag('app', 'latest', first.digest);
    clock = new Date('2030-01-02T03:04:06.000Z');
    await client.putTag('app', 'latest', second.digest);
    expect((await client.getTag('app', 'latest'))?.value).toBe(second.digest.value);
    const raw = await app.inject({ method: 'GET', url: '/v1/repositories/app/tags/latest' });
    // The version: wall ms of the write in fixed-width hex, counter, cluster id, node id.
    const wall = Date.parse('2030-01-02T03:04:06.000Z').toString(16).padStart(12, '0');
    expect(raw.json()).toEqual({
      digest: second.digest.value,
      updatedAt: '2030-01-02T03:04:06.000Z',
      version: `${wall}.000000.default.`,
    });
  });

  it('records the tagged manifest as a member of the repository', async () => {
    const image = pushedImage();
    await client.putTag('app', 'v1', image.digest);
    expect(await client.getManifest('app', image.digest)).toEqual({
      digest: image.digest.value,
      mediaType: MediaType.ociManifest,
      size: image.bytes.byteLength,
      artifactType: MediaType.ociConfig,
    });
  });

  it('refuses a tag whose manifest is missing on the origins', async () => {
    const image = imageManifest({ config: 'c', layers: ['l'] });
    const err = await client.putTag('app', 'v1', image.digest).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TagRejectedError);
    expect((err as TagRejectedError).missing).toEqual([image.digest.value]);
    expect((err as TagRejectedError).message).toContain(image.digest.value);
    expect(await client.getTag('app', 'v1')).toBeUndefined();
    expect(await client.listRepositories()).toEqual([]);
  });

  it('refuses a tag when a layer is missing, naming the layer', async () => {
    const image = pushedImage(['present', 'absent']);
    origin.remove(digestOf('absent'));
    const err = await client.putTag('app', 'v1', image.digest).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TagRejectedError);
    expect((err as TagRejectedError).missing).toEqual([digestOf('absent').value]);
    expect((err as TagRejectedError).statusCode).toBe(409);
  });

  it('refuses an index whose child manifest misses a blob', async () => {
    const good = pushedImage(['amd64-layer'], 'amd64-config');
    const bad = pushedImage(['arm64-layer'], 'arm64-config');
    origin.remove(digestOf('arm64-config'));
    const index = imageIndex([good, bad]);
    origin.put(index.bytes);
    const err = await client.putTag('multi', 'v1', index.digest).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TagRejectedError);
    expect((err as TagRejectedError).missing).toEqual([digestOf('arm64-config').value]);

    origin.put('arm64-config');
    await client.putTag('multi', 'v1', index.digest);
    expect((await client.getTag('multi', 'v1'))?.value).toBe(index.digest.value);
    const rejections = await metrics.registry.getSingleMetricAsString(
      'kraken_build_index_tag_rejections_total',
    );
    expect(rejections).toContain('kraken_build_index_tag_rejections_total{kind="tag"} 1');
  });

  it('counts tag puts and gets', async () => {
    const image = pushedImage();
    await client.putTag('app', 'v1', image.digest);
    await client.getTag('app', 'v1');
    await client.getTag('app', 'nope');
    expect(await metrics.registry.getSingleMetricAsString('kraken_build_index_tag_puts_total')).toContain(
      ' 1',
    );
    const gets = await metrics.registry.getSingleMetricAsString('kraken_build_index_tag_gets_total');
    expect(gets).toContain('result="hit"} 1');
    expect(gets).toContain('result="miss"} 1');
  });
});

describe('build-index manifest records and referrers', () => {
  it('round-trips a record, refuses missing content, and drops tags on delete', async () => {
    const image = pushedImage();
    const record = {
      digest: image.digest.value,
      mediaType: MediaType.ociManifest,
      size: image.bytes.byteLength,
    };
    await client.putManifest('app', record);
    expect(await client.getManifest('app', image.digest)).toEqual(record);
    await client.putTag('app', 'v1', image.digest);
    await client.putTag('app', 'also', image.digest);
    const other = pushedImage(['other']);
    await client.putTag('app', 'other', other.digest);

    expect(await client.deleteManifest('app', image.digest)).toBe(true);
    expect(await client.getManifest('app', image.digest)).toBeUndefined();
    expect(await client.listTags('app')).toEqual(['other']);
    expect(await client.deleteManifest('app', image.digest)).toBe(false);

    const missing = imageManifest({ config: 'x', layers: ['y'] });
    const err = await client
      .putManifest('app', {
        digest: missing.digest.value,
        mediaType: MediaType.ociManifest,
        size: missing.bytes.byteLength,
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ManifestRejectedError);
    expect((err as ManifestRejectedError).missing).toEqual([missing.digest.value]);
  });

  it('refuses a record that contradicts its manifest', async () => {
    const image = pushedImage();
    const base = {
      digest: image.digest.value,
      mediaType: MediaType.ociManifest,
      size: image.bytes.byteLength,
    };
    for (const [record, code] of [
      [{ ...base, size: base.size + 1 }, 'KRAKEN_INVALID_MANIFEST_RECORD'],
      [{ ...base, mediaType: MediaType.ociIndex }, 'KRAKEN_INVALID_MANIFEST'],
      [{ ...base, mediaType: 'text/plain' }, 'KRAKEN_INVALID_MANIFEST_RECORD'],
      [{ ...base, subject: digestOf('something').value }, 'KRAKEN_INVALID_MANIFEST_RECORD'],
      [{ ...base, digest: digestOf('another').value }, 'KRAKEN_INVALID_MANIFEST_RECORD'],
      [{ ...base, subject: 'sha256:nope' }, 'KRAKEN_INVALID_DIGEST'],
    ] as const) {
      const response = await app.inject({
        method: 'PUT',
        url: `/v1/repositories/app/manifests/${image.digest.value}`,
        payload: record,
      });
      expect(response.statusCode, JSON.stringify(record)).toBe(400);
      expect(response.json().error.code).toBe(code);
    }
    expect(await client.getManifest('app', image.digest)).toBeUndefined();
  });

  it('lists referrers of a subject', async () => {
    const subject = pushedImage();
    const signature = imageManifest({
      config: 'sig-config',
      layers: ['sig'],
      subject,
      artifactType: 'application/vnd.example.sig',
    });
    storeImage(origin, signature);
    const unrelated = pushedImage(['unrelated']);
    await client.putTag('app', 'v1', subject.digest);
    await client.putManifest('app', {
      digest: signature.digest.value,
      mediaType: MediaType.ociManifest,
      size: signature.bytes.byteLength,
      subject: subject.digest.value,
      artifactType: 'application/vnd.example.sig',
    });
    await client.putTag('app', 'unrelated', unrelated.digest);
    const referrers = await client.listReferrers('app', subject.digest);
    expect(referrers.map((r) => r.digest)).toEqual([signature.digest.value]);
    expect(referrers[0]?.artifactType).toBe('application/vnd.example.sig');
    expect(await client.listReferrers('app', unrelated.digest)).toEqual([]);
    expect(await client.listReferrers('elsewhere', subject.digest)).toEqual([]);

    await client.deleteManifest('app', signature.digest);
    expect(await client.listReferrers('app', subject.digest)).toEqual([]);
  });

  it('records referrers pushed by tag too', async () => {
    const subject = pushedImage();
    const sbom = imageManifest({ config: 'sbom-config', layers: ['sbom'], subject });
    storeImage(origin, sbom);
    await client.putTag('app', 'sha256-sbom', sbom.digest);
    expect((await client.listReferrers('app', subject.digest)).map((r) => r.digest)).toEqual([
      sbom.digest.value,
    ]);
  });
});

describe('build-index pagination', () => {
  it('pages tags and repositories in lexical order with n and last', async () => {
    const image = pushedImage();
    const tags = ['b', 'a', 'C', '1.0', '_x', 'a-b', 'a.b'];
    for (const tag of tags) await client.putTag('app', tag, image.digest);
    const sorted = [...tags].sort();
    expect(await client.listTags('app')).toEqual(sorted);
    expect(await client.listTags('app', { n: 3 })).toEqual(sorted.slice(0, 3));
    expect(await client.listTags('app', { n: 3, last: sorted[2] })).toEqual(sorted.slice(3, 6));
    expect(await client.listTags('app', { last: sorted[6] })).toEqual([]);
    expect(await client.listTags('app', { n: 0 })).toEqual([]);

    const repos = ['a/b', 'a-b', 'a', 'a/b/c', 'a0', 'z', 'a_b', 'a.b', 'a9/x'];
    for (const repo of repos) await client.putTag(repo, 'v1', image.digest);
    const sortedRepos = [...repos, 'app'].sort();
    expect(await client.listRepositories()).toEqual(sortedRepos);
    const pages: string[] = [];
    let last: string | undefined;
    for (;;) {
      const page = await client.listRepositories({ n: 3, ...(last ? { last } : {}) });
      if (page.length === 0) break;
      pages.push(...page);
      last = page[page.length - 1];
    }
    expect(pages).toEqual(sortedRepos);
  });

  it('rejects bad page parameters', async () => {
    for (const query of ['n=-1', 'n=abc', 'n=1.5', 'n=10001']) {
      const response = await app.inject({ method: 'GET', url: `/v1/repositories?${query}` });
      expect(response.statusCode, query).toBe(400);
      expect(response.json().error.code).toBe('KRAKEN_INVALID_REQUEST');
    }
  });
});

describe('build-index input validation', () => {
  const digest = digestOf('x').value;
  it.each([
    ['/v1/repositories/..%2Fetc/tags', 'KRAKEN_INVALID_REPOSITORY_NAME'],
    ['/v1/repositories/a%2F..%2F..%2Fb/tags/latest', 'KRAKEN_INVALID_REPOSITORY_NAME'],
    ['/v1/repositories/UPPER/tags/latest', 'KRAKEN_INVALID_REPOSITORY_NAME'],
    ['/v1/repositories/a%00b/tags/latest', 'KRAKEN_INVALID_REPOSITORY_NAME'],
    ['/v1/repositories/%2Fabs/tags/latest', 'KRAKEN_INVALID_REPOSITORY_NAME'],
    [`/v1/repositories/${'a'.repeat(256)}/tags/latest`, 'KRAKEN_INVALID_REPOSITORY_NAME'],
    ['/v1/repositories/app/tags/.hidden', 'KRAKEN_INVALID_TAG'],
    ['/v1/repositories/app/tags/a%2Fb', 'KRAKEN_INVALID_TAG'],
    ['/v1/repositories/app/manifests/sha256:..%2F..%2Fetc', 'KRAKEN_INVALID_DIGEST'],
    ['/v1/repositories/app/manifests/md5:abc', 'KRAKEN_INVALID_DIGEST'],
    [`/v1/repositories/app/referrers/${digest.toUpperCase()}`, 'KRAKEN_INVALID_DIGEST'],
  ])('GET %s is 400 %s', async (url, code) => {
    const response = await app.inject({ method: 'GET', url });
    expect(response.statusCode).toBe(400);
    expect(response.json().error.code).toBe(code);
  });

  it('validates the tag body digest before asking the origin', async () => {
    for (const payload of [{ digest: 'sha256:../../x' }, { digest: 42 }, {}]) {
      const response = await app.inject({ method: 'PUT', url: '/v1/repositories/app/tags/v1', payload });
      expect(response.statusCode).toBe(400);
    }
    expect(origin.maxInFlight).toBe(0);
  });

  it('surfaces validation errors through the client as RemoteApiError', async () => {
    const err = await client.getTag('Bad/Name', 'v1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RemoteApiError);
    expect((err as RemoteApiError).code).toBe('KRAKEN_INVALID_REPOSITORY_NAME');
    expect((err as RemoteApiError).statusCode).toBe(400);
  });

  it('writes nothing to storage for refused names, tags and digests', async () => {
    const image = pushedImage();
    const urls = [
      '/v1/repositories/..%2F..%2Fescape/tags/v1',
      '/v1/repositories/%2E%2E/tags/v1',
      '/v1/repositories/app/tags/..',
      '/v1/repositories/app/tags/..%2F..%2Fx',
      '/v1/repositories/a%2F_tags/tags/v1',
      '/v1/repositories/app/tags/%2E%2E',
    ];
    for (const url of urls) {
      const response = await app.inject({ method: 'PUT', url, payload: { digest: image.digest.value } });
      // Dot segments are normalised away before routing (404); everything else is 400.
      expect([400, 404], url).toContain(response.statusCode);
    }
    const record = {
      digest: image.digest.value,
      mediaType: MediaType.ociManifest,
      size: image.bytes.byteLength,
    };
    const response = await app.inject({
      method: 'PUT',
      url: '/v1/repositories/app/manifests/sha256:..',
      payload: record,
    });
    expect(response.statusCode).toBe(400);
    expect(await readdir(dir)).toEqual([]);
  });
});
