import { describe, expect, it } from 'vitest';
import { Readable } from 'node:stream';
import {
  ContentTooLargeError,
  DigestMismatchError,
  InvalidManifestError,
  MAX_MANIFEST_BYTES,
  digestOf,
} from '@kraken/oci-content';
import { createManifestClosureCheck } from './manifest-closure.js';
import { createFakeOrigin, imageIndex, imageManifest, storeImage } from '../testing/fixtures.js';

describe('manifest closure check', () => {
  it('passes an image whose manifest and blobs are all present', async () => {
    const origin = createFakeOrigin();
    const image = imageManifest({ config: '{}', layers: ['l1', 'l2'] });
    storeImage(origin, image);
    const result = await createManifestClosureCheck({ origin })(image.digest);
    expect(result.missing).toEqual([]);
    expect(result.root?.parsed.kind).toBe('image');
    expect(result.root?.size).toBe(image.bytes.byteLength);
  });

  it('reports a missing manifest', async () => {
    const origin = createFakeOrigin();
    const image = imageManifest({ config: '{}', layers: ['l1'] });
    const result = await createManifestClosureCheck({ origin })(image.digest);
    expect(result.root).toBeUndefined();
    expect(result.missing.map((d) => d.value)).toEqual([image.digest.value]);
  });

  it('names every missing blob', async () => {
    const origin = createFakeOrigin();
    const image = imageManifest({ config: 'cfg', layers: ['l1', 'l2', 'l3'] });
    storeImage(origin, image);
    origin.remove(digestOf('l1'));
    origin.remove(digestOf('l3'));
    const result = await createManifestClosureCheck({ origin })(image.digest);
    expect(result.missing.map((d) => d.value).sort()).toEqual(
      [digestOf('l1').value, digestOf('l3').value].sort(),
    );
  });

  it('does not require non-distributable layers, which live elsewhere', async () => {
    const origin = createFakeOrigin();
    const config = Buffer.from('{}');
    const foreign = digestOf('foreign-layer');
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: {
          mediaType: 'application/vnd.oci.image.config.v1+json',
          digest: digestOf(config).value,
          size: 2,
        },
        layers: [
          {
            mediaType: 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
            digest: foreign.value,
            size: 13,
            urls: ['https://example.com/layer'],
          },
        ],
      }),
    );
    origin.put(config);
    origin.put(manifest);
    const result = await createManifestClosureCheck({ origin })(digestOf(manifest));
    expect(result.missing).toEqual([]);
  });

  it('follows indexes into child manifests, and nested indexes', async () => {
    const origin = createFakeOrigin();
    const amd64 = imageManifest({ config: 'cfg-amd64', layers: ['shared', 'amd64'] });
    const arm64 = imageManifest({ config: 'cfg-arm64', layers: ['shared', 'arm64'] });
    storeImage(origin, amd64);
    storeImage(origin, arm64);
    origin.remove(digestOf('arm64'));
    const inner = imageIndex([arm64]);
    const outer = imageIndex([amd64, inner]);
    origin.put(inner.bytes);
    origin.put(outer.bytes);
    const result = await createManifestClosureCheck({ origin })(outer.digest);
    expect(result.root?.parsed.kind).toBe('index');
    expect(result.missing.map((d) => d.value)).toEqual([digestOf('arm64').value]);
  });

  it('reports a missing child manifest of an index', async () => {
    const origin = createFakeOrigin();
    const child = imageManifest({ config: 'c', layers: ['l'] });
    const index = imageIndex([child]);
    origin.put(index.bytes);
    const result = await createManifestClosureCheck({ origin })(index.digest);
    expect(result.missing.map((d) => d.value)).toEqual([child.digest.value]);
  });

  it('refuses indexes nested deeper than the limit', async () => {
    const origin = createFakeOrigin();
    const image = imageManifest({ config: 'c', layers: ['l'] });
    storeImage(origin, image);
    let top = imageIndex([image]);
    origin.put(top.bytes);
    for (let i = 0; i < 3; i++) {
      top = imageIndex([top]);
      origin.put(top.bytes);
    }
    // Four levels of index above the image: fine with maxDepth 4, refused with 3.
    await expect(createManifestClosureCheck({ origin, maxDepth: 4 })(top.digest)).resolves.toMatchObject({
      missing: [],
    });
    await expect(createManifestClosureCheck({ origin, maxDepth: 3 })(top.digest)).rejects.toThrow(
      /deeper than 3 levels/,
    );
  });

  it('refuses an index graph with more manifests than allowed', async () => {
    const origin = createFakeOrigin();
    const children = Array.from({ length: 5 }, (_, i) => imageManifest({ config: `c${i}`, layers: [] }));
    children.forEach((c) => storeImage(origin, c));
    const index = imageIndex(children);
    origin.put(index.bytes);
    await expect(
      createManifestClosureCheck({ origin, maxManifests: 6 })(index.digest),
    ).resolves.toMatchObject({ missing: [] });
    await expect(createManifestClosureCheck({ origin, maxManifests: 5 })(index.digest)).rejects.toThrow(
      InvalidManifestError,
    );
  });

  it('stats each blob once and keeps origin requests within the concurrency bound', async () => {
    const origin = createFakeOrigin();
    const children = Array.from({ length: 4 }, (_, i) =>
      imageManifest({
        config: `c${i}`,
        layers: ['shared', ...Array.from({ length: 10 }, (_, j) => `l${i}-${j}`)],
      }),
    );
    children.forEach((c) => storeImage(origin, c));
    const index = imageIndex(children);
    origin.put(index.bytes);
    let stats = 0;
    const counting = {
      ...origin,
      statBlob: (...args: Parameters<typeof origin.statBlob>) => (stats++, origin.statBlob(...args)),
    };
    const result = await createManifestClosureCheck({ origin: counting, concurrency: 3 })(index.digest);
    expect(result.missing).toEqual([]);
    expect(stats).toBe(4 * 11 + 1);
    expect(origin.maxInFlight).toBeLessThanOrEqual(3);
    expect(origin.maxInFlight).toBeGreaterThan(1);
  });

  it('rejects content that is not a manifest', async () => {
    const origin = createFakeOrigin();
    const digest = origin.put('not json');
    await expect(createManifestClosureCheck({ origin })(digest)).rejects.toThrow(InvalidManifestError);
  });

  it('verifies the manifest bytes against the digest and caps their size', async () => {
    const image = imageManifest({ config: 'c', layers: [] });
    const lying = {
      statBlob: async () => ({ size: 1 }),
      getBlob: async () => Readable.from([Buffer.from('{"other":1}')]),
    };
    await expect(createManifestClosureCheck({ origin: lying })(image.digest)).rejects.toThrow(
      DigestMismatchError,
    );
    const huge = {
      statBlob: async () => ({ size: 1 }),
      getBlob: async () =>
        Readable.from(
          (function* () {
            for (let i = 0; i <= MAX_MANIFEST_BYTES / 65536; i++) yield Buffer.alloc(65536, 0x20);
          })(),
        ),
    };
    await expect(createManifestClosureCheck({ origin: huge })(image.digest)).rejects.toThrow(
      ContentTooLargeError,
    );
  });
});
