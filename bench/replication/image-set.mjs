// The bench's images, as OCI image layouts on disk for skopeo: N images of S bytes, three layers
// each. The first layer (half of S) is a base shared by a group of consecutive images, the other
// two (a third and a sixth of S) are the image's own, so that replication has shared layers to
// copy once. Layer files are written once (random bytes, streamed, never whole in memory) and
// hard-linked into every layout that holds them.
import { createHash, randomFillSync } from 'node:crypto';
import { link, mkdir, open, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const CHUNK = 1024 * 1024;
const LAYER_MEDIA_TYPE = 'application/vnd.oci.image.layer.v1.tar';
const MANIFEST_MEDIA_TYPE = 'application/vnd.oci.image.manifest.v1+json';
const CONFIG_MEDIA_TYPE = 'application/vnd.oci.image.config.v1+json';
const INDEX_MEDIA_TYPE = 'application/vnd.oci.image.index.v1+json';

/** Writes `size` random bytes to `path`; returns the sha256 digest. */
async function writeRandomFile(path, size) {
  const hash = createHash('sha256');
  const buf = Buffer.allocUnsafe(CHUNK);
  const fh = await open(path, 'w');
  try {
    for (let written = 0; written < size;) {
      const n = Math.min(CHUNK, size - written);
      const chunk = buf.subarray(0, n);
      randomFillSync(chunk);
      hash.update(chunk);
      await fh.write(chunk, 0, n);
      written += n;
    }
  } finally {
    await fh.close();
  }
  return `sha256:${hash.digest('hex')}`;
}

const sha256 = (bytes) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
const hexOf = (digest) => digest.slice('sha256:'.length);

/**
 * Which layers each image has: `{ repo, tag, layers: [{ key, size }] }`, where images with the
 * same base key share that layer. `shareGroup` consecutive images share one base.
 */
export function planImages({ images, sizeBytes, shareGroup, repoPrefix = 'bench/img' }) {
  const base = Math.floor(sizeBytes / 2);
  const own = Math.floor(sizeBytes / 3);
  const rest = sizeBytes - base - own;
  return Array.from({ length: images }, (_, i) => ({
    repo: `${repoPrefix}-${String(i).padStart(3, '0')}`,
    tag: 'v1',
    layers: [
      { key: `base-${Math.floor(i / shareGroup)}`, size: base },
      { key: `own-${i}-a`, size: own },
      { key: `own-${i}-b`, size: rest },
    ],
  }));
}

/**
 * Writes every planned image as an OCI layout under `dir/<n>`; returns the images with
 * `layout` (the directory), `manifest` (its digest) and `blobs` ([{ digest, size }]: layers,
 * config, manifest), and `uniqueBytes`: the bytes of every distinct blob over all images.
 */
export async function writeImageSet({ dir, plan, onProgress = () => {} }) {
  const pool = join(dir, 'pool');
  await mkdir(pool, { recursive: true });
  const layers = new Map();
  const unique = new Map();
  const images = [];
  for (const [n, image] of plan.entries()) {
    const layout = join(dir, String(n));
    const blobDir = join(layout, 'blobs', 'sha256');
    await mkdir(blobDir, { recursive: true });
    const descriptors = [];
    for (const { key, size } of image.layers) {
      let layer = layers.get(key);
      if (layer === undefined) {
        const tmp = join(pool, `${key}.tmp`);
        const digest = await writeRandomFile(tmp, size);
        await rename(tmp, join(pool, hexOf(digest)));
        layer = { digest, size };
        layers.set(key, layer);
      }
      await link(join(pool, hexOf(layer.digest)), join(blobDir, hexOf(layer.digest)));
      descriptors.push({ mediaType: LAYER_MEDIA_TYPE, digest: layer.digest, size: layer.size });
    }
    // The config names the image, so every image has its own config and manifest.
    const config = Buffer.from(
      JSON.stringify({
        architecture: 'amd64',
        os: 'linux',
        config: { Labels: { 'bench.image': image.repo } },
        rootfs: { type: 'layers', diff_ids: descriptors.map((d) => d.digest) },
      }),
    );
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MANIFEST_MEDIA_TYPE,
        config: { mediaType: CONFIG_MEDIA_TYPE, digest: sha256(config), size: config.length },
        layers: descriptors,
      }),
    );
    for (const bytes of [config, manifest]) await writeFile(join(blobDir, hexOf(sha256(bytes))), bytes);
    await writeFile(join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    const entry = {
      mediaType: MANIFEST_MEDIA_TYPE,
      digest: sha256(manifest),
      size: manifest.length,
      annotations: { 'org.opencontainers.image.ref.name': image.tag },
    };
    await writeFile(
      join(layout, 'index.json'),
      JSON.stringify({ schemaVersion: 2, mediaType: INDEX_MEDIA_TYPE, manifests: [entry] }),
    );
    const blobs = [
      ...descriptors.map(({ digest, size }) => ({ digest, size })),
      { digest: sha256(config), size: config.length },
      { digest: sha256(manifest), size: manifest.length },
    ];
    for (const blob of blobs) unique.set(blob.digest, blob.size);
    images.push({ ...image, layout, manifest: sha256(manifest), blobs });
    onProgress(n + 1);
  }
  let uniqueBytes = 0;
  for (const size of unique.values()) uniqueBytes += size;
  return { images, uniqueBytes, uniqueBlobs: unique.size };
}
