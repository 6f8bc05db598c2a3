import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { digestOf, MediaType } from '@kraken/oci-content';
import { createTestRegistry, type TestRegistry } from './testing/test-registry.js';
import {
  descriptorOf,
  testBlob,
  testImageManifest,
  testIndex,
  type TestManifest,
} from './testing/oci-fixtures.js';

const REPO = 'team/app';

describe('registry API: manifest push', () => {
  let registry: TestRegistry;
  const config = testBlob('{"os":"linux"}');
  const layer = testBlob('layer bytes');

  beforeEach(async () => {
    registry = await createTestRegistry({ limits: { maxManifestBytes: 16 * 1024 } });
    registry.store.seedBlob(REPO, config.digest, config.bytes);
    registry.store.seedBlob(REPO, layer.digest, layer.bytes);
  });
  afterEach(() => registry.close());

  const put = (reference: string, manifest: { bytes: Buffer; mediaType?: string }, query = '') =>
    registry.app.inject({
      method: 'PUT',
      url: `/v2/${REPO}/manifests/${reference}${query}`,
      headers: { 'content-type': manifest.mediaType ?? MediaType.ociManifest },
      payload: manifest.bytes,
    });

  it('stores a manifest by tag byte-for-byte and answers 201 with Location and digest', async () => {
    const manifest = testImageManifest({ config, layers: [layer] });
    const res = await put('v1.0', manifest);
    expect(res.statusCode).toBe(201);
    expect(res.headers['location']).toBe(`/v2/${REPO}/manifests/${manifest.digest.value}`);
    expect(res.headers['docker-content-digest']).toBe(manifest.digest.value);
    expect(res.headers['oci-subject']).toBeUndefined();
    const get = await registry.app.inject({ method: 'GET', url: String(res.headers['location']) });
    expect(get.rawPayload.equals(manifest.bytes)).toBe(true);
    expect(registry.store.dump()[REPO]?.tags).toEqual({ 'v1.0': manifest.digest.value });
  });

  it('stores a manifest by digest and checks the digest, with its own algorithm', async () => {
    const manifest = testImageManifest({ config, layers: [layer] });
    expect((await put(manifest.digest.value, manifest)).statusCode).toBe(201);

    const sha512 = digestOf(manifest.bytes, 'sha512');
    const res = await put(sha512.value, manifest);
    expect(res.statusCode).toBe(201);
    expect(res.headers['docker-content-digest']).toBe(sha512.value);

    const tampered = await put(manifest.digest.value, {
      bytes: Buffer.concat([manifest.bytes, Buffer.from('  ')]),
    });
    expect(tampered.statusCode).toBe(400);
    expect(tampered.json().errors[0].code).toBe('DIGEST_INVALID');
    const malformed = await put('sha256:baddigeststring', manifest);
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().errors[0].code).toBe('DIGEST_INVALID');
  });

  it('stores a Docker schema2 manifest with its media type', async () => {
    const manifest = testImageManifest({
      config,
      layers: [layer],
      mediaType: MediaType.dockerManifest,
      configMediaType: 'application/vnd.docker.container.image.v1+json',
    });
    expect((await put('docker', manifest)).statusCode).toBe(201);
    const head = await registry.app.inject({ method: 'HEAD', url: `/v2/${REPO}/manifests/docker` });
    expect(head.headers['content-type']).toBe(MediaType.dockerManifest);
  });

  it('rejects malformed manifests with MANIFEST_INVALID', async () => {
    const cases = [
      Buffer.from('{"schemaVersion": 2, "config": '),
      Buffer.from('[]'),
      Buffer.from('{"schemaVersion":2}'),
    ];
    for (const bytes of cases) {
      const res = await put('bad', { bytes });
      expect(res.statusCode).toBe(400);
      expect(res.json().errors[0].code).toBe('MANIFEST_INVALID');
    }
    expect(registry.store.dump()[REPO]?.manifests).toEqual([]);
  });

  it('rejects an invalid tag with TAG_INVALID', async () => {
    const manifest = testImageManifest({ config });
    const res = await put('-notatag', manifest);
    expect(res.statusCode).toBe(400);
    expect(res.json().errors[0].code).toBe('TAG_INVALID');
  });

  it('rejects a manifest whose blobs are not in the repository with MANIFEST_BLOB_UNKNOWN', async () => {
    const missing = testBlob('never pushed');
    const res = await put('v1', testImageManifest({ config, layers: [layer, missing] }));
    expect(res.statusCode).toBe(400);
    expect(res.json().errors[0]).toMatchObject({
      code: 'MANIFEST_BLOB_UNKNOWN',
      detail: { missing: [missing.digest.value] },
    });
    // Blobs of another repository do not count.
    registry.store.seedBlob('elsewhere', missing.digest, missing.bytes);
    expect((await put('v1', testImageManifest({ config, layers: [missing] }))).statusCode).toBe(400);
  });

  it('accepts non-distributable layers that were never pushed', async () => {
    const foreign = testBlob('foreign layer');
    const manifest = testImageManifest({
      config,
      layers: [foreign],
      layerMediaType: 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
    });
    expect((await put('nd', manifest)).statusCode).toBe(201);
  });

  it('requires the child manifests of an index to exist', async () => {
    const child = testImageManifest({ config, layers: [layer] });
    const index = testIndex({
      manifests: [descriptorOf(child, child.mediaType, { platform: { os: 'linux', architecture: 'amd64' } })],
    });
    const early = await put('multi', index);
    expect(early.statusCode).toBe(400);
    expect(early.json().errors[0]).toMatchObject({
      code: 'MANIFEST_BLOB_UNKNOWN',
      detail: { missing: [child.digest.value] },
    });
    expect((await put(child.digest.value, child)).statusCode).toBe(201);
    expect((await put('multi', index)).statusCode).toBe(201);
    const get = await registry.app.inject({ method: 'GET', url: `/v2/${REPO}/manifests/multi` });
    expect(get.headers['content-type']).toBe(MediaType.ociIndex);
  });

  it('rejects an oversized manifest with 413 before storing anything', async () => {
    const big = testImageManifest({ config, annotations: { filler: 'x'.repeat(20 * 1024) } });
    const res = await put('big', big);
    expect(res.statusCode).toBe(413);
    expect(res.json().errors[0].code).toBe('MANIFEST_INVALID');
    expect(registry.store.dump()[REPO]?.manifests).toEqual([]);
  });

  it('answers OCI-Subject for a manifest with a subject, even when the subject is missing', async () => {
    const subject = testImageManifest({ config, layers: [layer] });
    const empty = testBlob('{}');
    registry.store.seedBlob(REPO, empty.digest, empty.bytes);
    const referrer = testImageManifest({
      config: empty,
      configMediaType: MediaType.ociEmpty,
      layers: [layer],
      artifactType: 'application/vnd.example.sbom',
      subject: descriptorOf(subject, subject.mediaType),
    });
    const res = await put(referrer.digest.value, referrer);
    expect(res.statusCode).toBe(201);
    expect(res.headers['oci-subject']).toBe(subject.digest.value);
  });

  it('applies ?tag= parameters of a push by digest and reports them in OCI-Tag', async () => {
    const manifest = testImageManifest({ config, layers: [layer] });
    const res = await put(manifest.digest.value, manifest, '?tag=1.2.3&tag=1.2&tag=latest');
    expect(res.statusCode).toBe(201);
    expect(res.headers['oci-tag']).toBe('1.2.3, 1.2, latest');
    expect(Object.keys(registry.store.dump()[REPO]?.tags ?? {}).sort()).toEqual(['1.2', '1.2.3', 'latest']);
    const bad = await put(manifest.digest.value, manifest, '?tag=..');
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors[0].code).toBe('TAG_INVALID');
  });
});

describe('registry API: content discovery', () => {
  let registry: TestRegistry;
  const config = testBlob('{"os":"linux"}');
  const empty = testBlob('{}');

  beforeEach(async () => {
    registry = await createTestRegistry({ limits: { maxPageSize: 50 } });
    registry.store.seedBlob(REPO, config.digest, config.bytes);
    registry.store.seedBlob(REPO, empty.digest, empty.bytes);
  });
  afterEach(() => registry.close());

  async function push(reference: string, manifest: TestManifest): Promise<void> {
    const res = await registry.app.inject({
      method: 'PUT',
      url: `/v2/${REPO}/manifests/${reference}`,
      headers: { 'content-type': manifest.mediaType },
      payload: manifest.bytes,
    });
    expect(res.statusCode).toBe(201);
  }

  it('lists tags in order, paginated with n, last and a Link header', async () => {
    const manifest = testImageManifest({ config });
    for (const tag of ['b', 'a', 'C', 'd', 'e']) await push(tag, manifest);

    const all = await registry.app.inject({ method: 'GET', url: `/v2/${REPO}/tags/list` });
    expect(all.statusCode).toBe(200);
    expect(all.json()).toEqual({ name: REPO, tags: ['C', 'a', 'b', 'd', 'e'] });
    expect(all.headers['link']).toBeUndefined();

    const first = await registry.app.inject({ method: 'GET', url: `/v2/${REPO}/tags/list?n=2` });
    expect(first.json().tags).toEqual(['C', 'a']);
    expect(first.headers['link']).toBe(`</v2/${REPO}/tags/list?n=2&last=a>; rel="next"`);

    const second = await registry.app.inject({ method: 'GET', url: `/v2/${REPO}/tags/list?n=2&last=a` });
    expect(second.json().tags).toEqual(['b', 'd']);
    expect(second.headers['link']).toBe(`</v2/${REPO}/tags/list?n=2&last=d>; rel="next"`);

    const last = await registry.app.inject({ method: 'GET', url: `/v2/${REPO}/tags/list?n=2&last=d` });
    expect(last.json().tags).toEqual(['e']);
    expect(last.headers['link']).toBeUndefined();

    const exact = await registry.app.inject({ method: 'GET', url: `/v2/${REPO}/tags/list?n=5` });
    expect(exact.json().tags).toHaveLength(5);
    expect(exact.headers['link']).toBeUndefined();

    const none = await registry.app.inject({ method: 'GET', url: `/v2/${REPO}/tags/list?n=0` });
    expect(none.json().tags).toEqual([]);
    expect(none.headers['link']).toBeUndefined();

    const lastOnly = await registry.app.inject({ method: 'GET', url: `/v2/${REPO}/tags/list?last=b` });
    expect(lastOnly.json().tags).toEqual(['d', 'e']);

    for (const query of ['?n=-1', '?n=abc', '?last=../x']) {
      const bad = await registry.app.inject({ method: 'GET', url: `/v2/${REPO}/tags/list${query}` });
      expect(bad.statusCode).toBe(400);
    }
  });

  it('caps pages at maxPageSize and links to the rest', async () => {
    const manifest = testImageManifest({ config });
    for (let i = 0; i < 60; i++) await push(`t${String(i).padStart(2, '0')}`, manifest);
    const res = await registry.app.inject({ method: 'GET', url: `/v2/${REPO}/tags/list?n=1000` });
    expect(res.json().tags).toHaveLength(50);
    expect(res.headers['link']).toBe(`</v2/${REPO}/tags/list?n=50&last=t49>; rel="next"`);
  });

  it('lists repositories in the catalog', async () => {
    registry.store.seedBlob('alpha/one', config.digest, config.bytes);
    registry.store.seedBlob('zeta', config.digest, config.bytes);
    const res = await registry.app.inject({ method: 'GET', url: '/v2/_catalog?n=2' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ repositories: ['alpha/one', REPO] });
    expect(res.headers['link']).toBe(`</v2/_catalog?n=2&last=${encodeURIComponent(REPO)}>; rel="next"`);
    const rest = await registry.app.inject({ method: 'GET', url: `/v2/_catalog?n=2&last=${REPO}` });
    expect(rest.json()).toEqual({ repositories: ['zeta'] });
  });

  it('lists referrers with artifactType and annotations, filtered on request', async () => {
    const subject = testImageManifest({ config });
    await push('app', subject);
    const subjectDescriptor = descriptorOf(subject, subject.mediaType);
    const sbom = testImageManifest({
      config: empty,
      configMediaType: MediaType.ociEmpty,
      artifactType: 'application/vnd.example.sbom',
      subject: subjectDescriptor,
      annotations: { 'org.example.kind': 'sbom' },
    });
    const signature = testImageManifest({
      config,
      configMediaType: 'application/vnd.example.signature.config',
      subject: subjectDescriptor,
      annotations: { 'org.example.kind': 'signature' },
    });
    const index = testIndex({
      manifests: [],
      subject: subjectDescriptor,
      annotations: { 'org.example.kind': 'index' },
    });
    const unrelated = testImageManifest({ config, annotations: { unrelated: 'yes' } });
    for (const m of [sbom, signature, index, unrelated]) await push(m.digest.value, m);

    const res = await registry.app.inject({
      method: 'GET',
      url: `/v2/${REPO}/referrers/${subject.digest.value}`,
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe(MediaType.ociIndex);
    expect(res.headers['oci-filters-applied']).toBeUndefined();
    const body = res.json();
    expect(body).toMatchObject({ schemaVersion: 2, mediaType: MediaType.ociIndex });
    expect(body.manifests).toHaveLength(3);
    expect(body.manifests).toEqual(
      expect.arrayContaining([
        {
          mediaType: MediaType.ociManifest,
          digest: sbom.digest.value,
          size: sbom.bytes.byteLength,
          artifactType: 'application/vnd.example.sbom',
          annotations: { 'org.example.kind': 'sbom' },
        },
        expect.objectContaining({
          digest: signature.digest.value,
          artifactType: 'application/vnd.example.signature.config',
        }),
        {
          mediaType: MediaType.ociIndex,
          digest: index.digest.value,
          size: index.bytes.byteLength,
          annotations: { 'org.example.kind': 'index' },
        },
      ]),
    );

    const filtered = await registry.app.inject({
      method: 'GET',
      url: `/v2/${REPO}/referrers/${subject.digest.value}?artifactType=${encodeURIComponent('application/vnd.example.sbom')}`,
    });
    expect(filtered.headers['oci-filters-applied']).toBe('artifactType');
    expect(filtered.json().manifests.map((d: { digest: string }) => d.digest)).toEqual([sbom.digest.value]);
  });

  it('answers an empty index for unknown subjects and repositories, 400 for bad digests', async () => {
    const unknown = testBlob('no such subject').digest.value;
    for (const repo of [REPO, 'never/pushed']) {
      const res = await registry.app.inject({ method: 'GET', url: `/v2/${repo}/referrers/${unknown}` });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toBe(MediaType.ociIndex);
      expect(res.json()).toEqual({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [] });
    }
    const bad = await registry.app.inject({ method: 'GET', url: `/v2/${REPO}/referrers/sha256:nope` });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors[0].code).toBe('DIGEST_INVALID');
  });
});

describe('registry API: default manifest limit', () => {
  it('accepts a manifest of almost 4 MiB, as the conformance suite pushes', async () => {
    const registry = await createTestRegistry();
    try {
      const config = testBlob('{}');
      registry.store.seedBlob(REPO, config.digest, config.bytes);
      const annotations: Record<string, string> = {};
      for (let i = 0; i < 390; i++) annotations[`large-annotation-${i}`] = 'A'.repeat(10_000);
      const manifest = testImageManifest({ config, annotations });
      expect(manifest.bytes.byteLength).toBeGreaterThan(3_900_000);
      const res = await registry.app.inject({
        method: 'PUT',
        url: `/v2/${REPO}/manifests/large-manifest`,
        headers: { 'content-type': manifest.mediaType },
        payload: manifest.bytes,
      });
      expect(res.statusCode).toBe(201);
      const get = await registry.app.inject({ method: 'GET', url: `/v2/${REPO}/manifests/large-manifest` });
      expect(get.rawPayload.equals(manifest.bytes)).toBe(true);
    } finally {
      await registry.close();
    }
  });
});
