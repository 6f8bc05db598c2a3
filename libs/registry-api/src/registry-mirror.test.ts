import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseManifest } from '@kraken/oci-content';
import { createTestRegistry, type TestRegistry } from './testing/test-registry.js';
import { createMemoryRegistryStore, type MemoryRegistryStore } from './testing/memory-registry-store.js';
import { testBlob, testImageManifest } from './testing/oci-fixtures.js';
import type { ReadableRegistryStore } from './registry-store.js';

const REPO = 'library/nginx';

describe('registry API: mirror mode (?ns=)', () => {
  let registry: TestRegistry;
  let dockerHub: MemoryRegistryStore;
  const config = testBlob('{"architecture":"amd64","os":"linux"}');
  const layer = testBlob('mirrored layer');
  const manifest = testImageManifest({ config, layers: [layer] });
  let stale = false;

  beforeEach(async () => {
    dockerHub = createMemoryRegistryStore();
    dockerHub.seedBlob(REPO, config.digest, config.bytes);
    dockerHub.seedBlob(REPO, layer.digest, layer.bytes);
    await dockerHub.putManifest(
      REPO,
      { digest: manifest.digest, mediaType: manifest.mediaType, bytes: manifest.bytes },
      parseManifest(manifest.bytes),
      '1.27',
    );
    const mirrored: ReadableRegistryStore = {
      statBlob: (repo, digest) => dockerHub.statBlob(repo, digest),
      readBlob: (repo, digest, range) => dockerHub.readBlob(repo, digest, range),
      getManifest: async (repo, ref) => {
        const found = await dockerHub.getManifest(repo, ref);
        return found === undefined ? undefined : { ...found, stale };
      },
      listTags: (repo, page) => dockerHub.listTags(repo, page),
    };
    stale = false;
    registry = await createTestRegistry({
      mirrors: (ns) => (ns === 'docker.io' ? mirrored : undefined),
    });
  });
  afterEach(() => registry.close());

  it('serves a listed registry from its store, and pushed content without ns as before', async () => {
    const byTag = await registry.app.inject({
      method: 'GET',
      url: `/v2/${REPO}/manifests/1.27?ns=docker.io`,
    });
    expect(byTag.statusCode).toBe(200);
    expect(byTag.headers['docker-content-digest']).toBe(manifest.digest.value);
    expect(byTag.headers.warning).toBeUndefined();
    const blob = await registry.app.inject({
      method: 'GET',
      url: `/v2/${REPO}/blobs/${layer.digest.value}?ns=docker.io`,
    });
    expect(blob.statusCode).toBe(200);
    expect(blob.rawPayload.equals(layer.bytes)).toBe(true);
    // The served store itself does not hold it: without ns it is not there.
    const plain = await registry.app.inject({ method: 'GET', url: `/v2/${REPO}/manifests/1.27` });
    expect(plain.statusCode).toBe(404);
  });

  it('marks a manifest resolved from a remembered answer as stale', async () => {
    stale = true;
    const res = await registry.app.inject({ method: 'HEAD', url: `/v2/${REPO}/manifests/1.27?ns=docker.io` });
    expect(res.statusCode).toBe(200);
    expect(res.headers.warning).toBe('110 - "Response is Stale"');
  });

  it('answers a registry that is not mirrored with a fast NAME_UNKNOWN', async () => {
    const res = await registry.app.inject({ method: 'GET', url: `/v2/${REPO}/manifests/1.27?ns=quay.io` });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ errors: [{ code: 'NAME_UNKNOWN' }] });
    expect(res.json().errors[0].message).toContain('quay.io');
  });

  it('refuses a malformed or repeated ns with NAME_INVALID', async () => {
    for (const ns of ['..%2Fetc', 'Docker.io', 'a%20b', 'docker.io/library', '']) {
      const res = await registry.app.inject({ method: 'GET', url: `/v2/${REPO}/manifests/1.27?ns=${ns}` });
      expect(res.statusCode, ns).toBe(400);
      expect(res.json(), ns).toMatchObject({ errors: [{ code: 'NAME_INVALID' }] });
    }
    const twice = await registry.app.inject({
      method: 'GET',
      url: `/v2/${REPO}/manifests/1.27?ns=docker.io&ns=quay.io`,
    });
    expect(twice.statusCode).toBe(400);
  });

  it('is read-only for mirrored registries', async () => {
    const res = await registry.app.inject({
      method: 'PUT',
      url: `/v2/${REPO}/manifests/1.28?ns=docker.io`,
      headers: { 'content-type': manifest.mediaType },
      payload: manifest.bytes,
    });
    expect(res.statusCode).toBe(405);
    expect(res.json()).toMatchObject({ errors: [{ code: 'UNSUPPORTED' }] });
  });

  it('answers the base endpoint whatever the ns', async () => {
    const res = await registry.app.inject({ method: 'GET', url: '/v2/?ns=quay.io' });
    expect(res.statusCode).toBe(200);
  });
});
