import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MediaType } from '@kraken/oci-content';
import { createTestRegistry, type TestRegistry } from './testing/test-registry.js';
import { testBlob, testImageManifest } from './testing/oci-fixtures.js';

const REPO = 'library/ubuntu';

describe('registry API: pull', () => {
  let registry: TestRegistry;
  const config = testBlob('{"architecture":"amd64"}');
  const layer = testBlob(Buffer.from(Array.from({ length: 2048 }, (_, i) => i % 251)));
  const manifest = testImageManifest({ config, layers: [layer] });

  beforeEach(async () => {
    registry = await createTestRegistry();
    registry.store.seedBlob(REPO, config.digest, config.bytes);
    registry.store.seedBlob(REPO, layer.digest, layer.bytes);
    const put = await registry.app.inject({
      method: 'PUT',
      url: `/v2/${REPO}/manifests/latest`,
      headers: { 'content-type': manifest.mediaType },
      payload: manifest.bytes,
    });
    expect(put.statusCode).toBe(201);
  });
  afterEach(() => registry.close());

  it('answers the base endpoint with the API version header', async () => {
    for (const url of ['/v2/', '/v2']) {
      const res = await registry.app.inject({ method: 'GET', url });
      expect(res.statusCode).toBe(200);
      expect(res.headers['docker-distribution-api-version']).toBe('registry/2.0');
    }
  });

  it('serves a manifest by tag and by digest with its media type, digest and length', async () => {
    for (const ref of ['latest', manifest.digest.value]) {
      const res = await registry.app.inject({
        method: 'GET',
        url: `/v2/${REPO}/manifests/${ref}`,
        headers: { accept: `${MediaType.ociManifest}, ${MediaType.dockerManifest}` },
      });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toBe(MediaType.ociManifest);
      expect(res.headers['docker-content-digest']).toBe(manifest.digest.value);
      expect(res.headers['content-length']).toBe(String(manifest.bytes.byteLength));
      expect(res.rawPayload.equals(manifest.bytes)).toBe(true);
    }
  });

  it('answers HEAD on a manifest with headers and no body', async () => {
    const res = await registry.app.inject({ method: 'HEAD', url: `/v2/${REPO}/manifests/latest` });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-length']).toBe(String(manifest.bytes.byteLength));
    expect(res.headers['docker-content-digest']).toBe(manifest.digest.value);
    expect(res.headers['content-type']).toBe(MediaType.ociManifest);
    expect(res.rawPayload.byteLength).toBe(0);
  });

  it('serves a blob and answers HEAD without reading it', async () => {
    const res = await registry.app.inject({ method: 'GET', url: `/v2/${REPO}/blobs/${layer.digest.value}` });
    expect(res.statusCode).toBe(200);
    expect(res.headers['docker-content-digest']).toBe(layer.digest.value);
    expect(res.headers['content-length']).toBe('2048');
    expect(res.rawPayload.equals(layer.bytes)).toBe(true);

    let reads = 0;
    const readBlob = registry.store.readBlob;
    registry.store.readBlob = async (...args) => {
      reads++;
      return readBlob(...args);
    };
    const head = await registry.app.inject({
      method: 'HEAD',
      url: `/v2/${REPO}/blobs/${layer.digest.value}`,
    });
    expect(head.statusCode).toBe(200);
    expect(head.headers['content-length']).toBe('2048');
    expect(head.headers['docker-content-digest']).toBe(layer.digest.value);
    expect(head.rawPayload.byteLength).toBe(0);
    expect(reads).toBe(0);
  });

  it.each([
    ['bytes=500-1499', 500, 1499],
    ['bytes=500-', 500, 2047],
    ['bytes=-500', 1548, 2047],
    ['bytes=2000-5000', 2000, 2047],
    ['bytes=0-0', 0, 0],
  ])('serves Range %s as 206', async (range, start, end) => {
    const res = await registry.app.inject({
      method: 'GET',
      url: `/v2/${REPO}/blobs/${layer.digest.value}`,
      headers: { range },
    });
    expect(res.statusCode).toBe(206);
    expect(res.headers['content-range']).toBe(`bytes ${start}-${end}/2048`);
    expect(res.headers['content-length']).toBe(String(end - start + 1));
    expect(res.rawPayload.equals(layer.bytes.subarray(start, end + 1))).toBe(true);
  });

  it.each(['bytes=500-0', 'bytes=5000-10000', 'bytes=2048-', 'bytes=-0'])(
    'answers unsatisfiable Range %s with 416',
    async (range) => {
      const res = await registry.app.inject({
        method: 'GET',
        url: `/v2/${REPO}/blobs/${layer.digest.value}`,
        headers: { range },
      });
      expect(res.statusCode).toBe(416);
      expect(res.headers['content-range']).toBe('bytes */2048');
      expect(res.json().errors[0].code).toBe('RANGE_INVALID');
    },
  );

  it('ignores range forms it does not serve (several ranges, other units)', async () => {
    for (const range of ['bytes=0-1,5-6', 'items=0-1']) {
      const res = await registry.app.inject({
        method: 'GET',
        url: `/v2/${REPO}/blobs/${layer.digest.value}`,
        headers: { range },
      });
      expect(res.statusCode).toBe(200);
      expect(res.rawPayload.byteLength).toBe(2048);
    }
  });

  it('reports unknown manifests, blobs, tags and repositories with spec codes', async () => {
    const missing = testBlob('nope').digest.value;
    const cases: Array<[string, string, number, string]> = [
      ['GET', `/v2/${REPO}/manifests/missing`, 404, 'MANIFEST_UNKNOWN'],
      ['GET', `/v2/${REPO}/manifests/${missing}`, 404, 'MANIFEST_UNKNOWN'],
      ['GET', `/v2/other/repo/manifests/latest`, 404, 'MANIFEST_UNKNOWN'],
      ['GET', `/v2/${REPO}/blobs/${missing}`, 404, 'BLOB_UNKNOWN'],
      ['GET', `/v2/other/repo/tags/list`, 404, 'NAME_UNKNOWN'],
      // Not a valid tag, so it cannot name a manifest: unknown rather than malformed.
      ['GET', `/v2/${REPO}/manifests/.INVALID_MANIFEST_NAME`, 404, 'MANIFEST_UNKNOWN'],
      ['GET', `/v2/${REPO}/manifests/sha256:totallywrong`, 400, 'DIGEST_INVALID'],
      ['GET', `/v2/${REPO}/blobs/latest`, 400, 'DIGEST_INVALID'],
      ['GET', `/v2/${REPO}/blobs/md5:d41d8cd98f00b204e9800998ecf8427e`, 400, 'DIGEST_INVALID'],
      ['GET', `/v2/${REPO}/nothing/here`, 404, 'UNSUPPORTED'],
      ['POST', `/v2/${REPO}/manifests/latest`, 405, 'UNSUPPORTED'],
    ];
    for (const [method, url, status, code] of cases) {
      const res = await registry.app.inject({ method: method as 'GET', url });
      expect({ url, status: res.statusCode }).toEqual({ url, status });
      expect(res.headers['docker-distribution-api-version']).toBe('registry/2.0');
      expect(res.json()).toEqual({
        errors: [expect.objectContaining({ code, message: expect.any(String) })],
      });
    }
    const head = await registry.app.inject({ method: 'HEAD', url: `/v2/${REPO}/blobs/${missing}` });
    expect(head.statusCode).toBe(404);
    expect(head.rawPayload.byteLength).toBe(0);
  });

  it('accepts a percent-encoded colon in digests', async () => {
    const res = await registry.app.inject({
      method: 'GET',
      url: `/v2/${REPO}/blobs/${layer.digest.value.replace(':', '%3A')}`,
    });
    expect(res.statusCode).toBe(200);
  });
});

describe('registry API: store failures', () => {
  it('answers a failing store with a bare 500 and no stale content headers', async () => {
    const registry = await createTestRegistry();
    try {
      const blob = testBlob('content');
      registry.store.seedBlob(REPO, blob.digest, blob.bytes);
      registry.store.readBlob = async () => {
        throw new Error('EIO: /var/lib/kraken/blobs/sha256/ab/secret');
      };
      const res = await registry.app.inject({ method: 'GET', url: `/v2/${REPO}/blobs/${blob.digest.value}` });
      expect(res.statusCode).toBe(500);
      expect(res.headers['docker-content-digest']).toBeUndefined();
      expect(res.headers['docker-distribution-api-version']).toBe('registry/2.0');
      expect(res.body).not.toContain('secret');
      expect(res.json().errors[0].code).toBe('UNKNOWN');
      // And it keeps serving.
      expect(
        (await registry.app.inject({ method: 'HEAD', url: `/v2/${REPO}/blobs/${blob.digest.value}` }))
          .statusCode,
      ).toBe(200);
    } finally {
      await registry.close();
    }
  });
});
