import Fastify from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { MediaType, parseManifest } from '@kraken/oci-content';
import { createMetrics } from '@kraken/service-kit';
import { createMemoryRegistryStore } from './testing/memory-registry-store.js';
import { createTestRegistry, type TestRegistry } from './testing/test-registry.js';
import { testBlob, descriptorOf, testImageManifest } from './testing/oci-fixtures.js';
import { registerRegistryApi } from './registry-api-plugin.js';

const REPO = 'team/app';
const config = testBlob('{"os":"linux"}');
const layer = testBlob('layer');
const manifest = testImageManifest({ config, layers: [layer] });

async function seed(registry: TestRegistry): Promise<void> {
  registry.store.seedBlob(REPO, config.digest, config.bytes);
  registry.store.seedBlob(REPO, layer.digest, layer.bytes);
  const parsed = parseManifest(manifest.bytes);
  for (const tag of ['v1', 'latest']) {
    await registry.store.putManifest(
      REPO,
      { digest: manifest.digest, mediaType: manifest.mediaType, bytes: manifest.bytes },
      parsed,
      tag,
    );
  }
}

describe('registry API: content management', () => {
  let registry: TestRegistry;
  afterEach(() => registry.close());

  it('deletes a tag (202) without touching the manifest', async () => {
    registry = await createTestRegistry();
    await seed(registry);
    const res = await registry.app.inject({ method: 'DELETE', url: `/v2/${REPO}/manifests/v1` });
    expect(res.statusCode).toBe(202);
    expect((await registry.app.inject({ method: 'HEAD', url: `/v2/${REPO}/manifests/v1` })).statusCode).toBe(
      404,
    );
    expect(
      (await registry.app.inject({ method: 'HEAD', url: `/v2/${REPO}/manifests/latest` })).statusCode,
    ).toBe(200);
    expect(
      (await registry.app.inject({ method: 'DELETE', url: `/v2/${REPO}/manifests/v1` })).statusCode,
    ).toBe(404);
  });

  it('deletes a manifest by digest together with its tags', async () => {
    registry = await createTestRegistry();
    await seed(registry);
    const res = await registry.app.inject({
      method: 'DELETE',
      url: `/v2/${REPO}/manifests/${manifest.digest.value}`,
    });
    expect(res.statusCode).toBe(202);
    for (const ref of ['latest', manifest.digest.value]) {
      const get = await registry.app.inject({ method: 'GET', url: `/v2/${REPO}/manifests/${ref}` });
      expect(get.statusCode).toBe(404);
      expect(get.json().errors[0].code).toBe('MANIFEST_UNKNOWN');
    }
    const tags = await registry.app.inject({ method: 'GET', url: `/v2/${REPO}/tags/list` });
    expect(tags.json().tags).toEqual([]);
    const again = await registry.app.inject({
      method: 'DELETE',
      url: `/v2/${REPO}/manifests/${manifest.digest.value}`,
    });
    expect(again.statusCode).toBe(404);
    expect(again.json().errors[0].code).toBe('MANIFEST_UNKNOWN');
  });

  it('deletes a blob (202), then reports it unknown (404)', async () => {
    registry = await createTestRegistry();
    await seed(registry);
    const url = `/v2/${REPO}/blobs/${layer.digest.value}`;
    expect((await registry.app.inject({ method: 'DELETE', url })).statusCode).toBe(202);
    expect((await registry.app.inject({ method: 'HEAD', url })).statusCode).toBe(404);
    const again = await registry.app.inject({ method: 'DELETE', url });
    expect(again.statusCode).toBe(404);
    expect(again.json().errors[0].code).toBe('BLOB_UNKNOWN');
  });

  it('answers 405 UNSUPPORTED for deletes a writable store does not implement', async () => {
    const full = createMemoryRegistryStore();
    const { deleteBlob: _b, deleteManifest: _m, ...withoutDeletes } = full;
    registry = await createTestRegistry({ servedStore: withoutDeletes });
    for (const url of [`/v2/${REPO}/manifests/v1`, `/v2/${REPO}/blobs/${layer.digest.value}`]) {
      const res = await registry.app.inject({ method: 'DELETE', url });
      expect(res.statusCode).toBe(405);
      expect(res.json().errors[0].code).toBe('UNSUPPORTED');
    }
  });
});

describe('registry API: read-only mode', () => {
  let registry: TestRegistry;
  afterEach(() => registry.close());

  it('serves pulls and answers every push or delete with 405 UNSUPPORTED', async () => {
    registry = await createTestRegistry({ readOnly: true });
    await seed(registry);
    expect(
      (await registry.app.inject({ method: 'GET', url: `/v2/${REPO}/manifests/latest` })).statusCode,
    ).toBe(200);
    expect(
      (await registry.app.inject({ method: 'GET', url: `/v2/${REPO}/blobs/${layer.digest.value}` }))
        .statusCode,
    ).toBe(200);
    expect((await registry.app.inject({ method: 'GET', url: `/v2/${REPO}/tags/list` })).statusCode).toBe(200);

    const id = '0b7e6a0e-5f2a-4e43-9d5c-8d1f8d6c2a11';
    const writes: Array<[string, string]> = [
      ['POST', `/v2/${REPO}/blobs/uploads/`],
      ['POST', `/v2/${REPO}/blobs/uploads/?digest=${layer.digest.value}`],
      ['POST', `/v2/${REPO}/blobs/uploads/?mount=${layer.digest.value}&from=other`],
      ['PATCH', `/v2/${REPO}/blobs/uploads/${id}`],
      ['PUT', `/v2/${REPO}/blobs/uploads/${id}?digest=${layer.digest.value}`],
      ['GET', `/v2/${REPO}/blobs/uploads/${id}`],
      ['DELETE', `/v2/${REPO}/blobs/uploads/${id}`],
      ['PUT', `/v2/${REPO}/manifests/latest`],
      ['DELETE', `/v2/${REPO}/manifests/latest`],
      ['DELETE', `/v2/${REPO}/blobs/${layer.digest.value}`],
    ];
    for (const [method, url] of writes) {
      const res = await registry.app.inject({
        method: method as 'POST',
        url,
        headers: { 'content-type': 'application/octet-stream' },
        payload: Buffer.from('data'),
      });
      expect({ method, url, status: res.statusCode }).toEqual({ method, url, status: 405 });
      expect(res.json().errors[0].code).toBe('UNSUPPORTED');
    }
    expect(registry.store.dump()[REPO]?.tags).toEqual({
      latest: manifest.digest.value,
      v1: manifest.digest.value,
    });
  });

  it('answers 404 on referrers and sends no OCI-Subject when the store has no referrers API', async () => {
    const full = createMemoryRegistryStore();
    const { listReferrers: _r, ...withoutReferrers } = full;
    registry = await createTestRegistry({ servedStore: withoutReferrers });
    const res = await registry.app.inject({
      method: 'GET',
      url: `/v2/${REPO}/referrers/${manifest.digest.value}`,
    });
    expect(res.statusCode).toBe(404);

    full.seedBlob(REPO, config.digest, config.bytes);
    const referrer = testImageManifest({ config, subject: descriptorOf(manifest, MediaType.ociManifest) });
    const put = await registry.app.inject({
      method: 'PUT',
      url: `/v2/${REPO}/manifests/${referrer.digest.value}`,
      headers: { 'content-type': referrer.mediaType },
      payload: referrer.bytes,
    });
    expect(put.statusCode).toBe(201);
    expect(put.headers['oci-subject']).toBeUndefined();
  });
});

describe('registry API: options', () => {
  it('refuses a writable store without an upload store', async () => {
    const app = Fastify();
    await expect(registerRegistryApi(app, { store: createMemoryRegistryStore() })).rejects.toThrow(
      /upload store/,
    );
    await app.close();
  });
});

describe('registry API: metrics', () => {
  let registry: TestRegistry;
  afterEach(() => registry.close());

  it('counts requests by operation and status, and bytes both ways', async () => {
    const metrics = createMetrics('test', { defaultMetrics: false });
    registry = await createTestRegistry({ metrics });
    const blob = testBlob(Buffer.alloc(1000, 1));
    await registry.app.inject({
      method: 'POST',
      url: `/v2/${REPO}/blobs/uploads/?digest=${blob.digest.value}`,
      payload: blob.bytes,
    });
    await registry.app.inject({ method: 'GET', url: `/v2/${REPO}/blobs/${blob.digest.value}` });
    await registry.app.inject({
      method: 'GET',
      url: `/v2/${REPO}/blobs/${testBlob('missing').digest.value}`,
    });
    const text = await metrics.registry.metrics();
    expect(text).toContain('kraken_test_registry_requests_total{operation="uploads_post",status="201"} 1');
    expect(text).toContain('kraken_test_registry_requests_total{operation="blob_get",status="200"} 1');
    expect(text).toContain('kraken_test_registry_requests_total{operation="blob_get",status="404"} 1');
    expect(text).toContain('kraken_test_registry_bytes_received_total{kind="blob"} 1000');
    expect(text).toContain('kraken_test_registry_bytes_served_total{kind="blob"} 1000');
  });
});
