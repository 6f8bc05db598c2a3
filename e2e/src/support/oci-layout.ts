/**
 * Generates real OCI image layouts on disk (oci-layout, index.json, blobs/) with random
 * layer content, streamed to disk so that large layers never sit in memory.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { once } from 'node:events';
import { createDigester, digestOf, MediaType, type Descriptor } from '@kraken/oci-content';

export interface GeneratedImage {
  /** Descriptor of the top-level manifest (image manifest or index). */
  readonly manifest: Descriptor;
  /** Every blob and manifest digest in the image. */
  readonly digests: string[];
}

async function writeBlobStream(dir: string, size: number): Promise<Descriptor> {
  const tmp = join(dir, 'blobs', `tmp-${randomBytes(8).toString('hex')}`);
  const out = createWriteStream(tmp);
  const digester = createDigester();
  const chunk = 1024 * 1024;
  for (let written = 0; written < size; written += chunk) {
    const buf = randomBytes(Math.min(chunk, size - written));
    digester.update(buf);
    if (!out.write(buf)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  const d = digester.digest();
  await rename(tmp, join(dir, 'blobs', 'sha256', d.hex));
  return { mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: d.value, size };
}

async function writeJsonBlob(dir: string, value: unknown, mediaType: string): Promise<Descriptor> {
  const bytes = Buffer.from(JSON.stringify(value));
  const d = digestOf(bytes);
  await writeFile(join(dir, 'blobs', 'sha256', d.hex), bytes);
  return { mediaType, digest: d.value, size: bytes.length };
}

async function writeImage(dir: string, layerSizes: number[], platform: { architecture: string; os: string }) {
  const layers: Descriptor[] = [];
  for (const size of layerSizes) layers.push(await writeBlobStream(dir, size));
  const config = await writeJsonBlob(
    dir,
    { ...platform, rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) }, config: {} },
    MediaType.ociConfig,
  );
  const manifest = await writeJsonBlob(
    dir,
    { schemaVersion: 2, mediaType: MediaType.ociManifest, config, layers },
    MediaType.ociManifest,
  );
  return {
    manifest: { ...manifest, platform },
    digests: [config.digest, ...layers.map((l) => l.digest), manifest.digest],
  };
}

async function init(dir: string) {
  await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
}

async function writeIndexJson(dir: string, manifest: Descriptor, tag: string) {
  const entry = { ...manifest, annotations: { 'org.opencontainers.image.ref.name': tag } };
  await writeFile(
    join(dir, 'index.json'),
    JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [entry] }),
  );
}

/** A single-platform image with one layer per entry of `layerSizes`, tagged `tag`. */
export async function generateImage(dir: string, tag: string, layerSizes: number[]): Promise<GeneratedImage> {
  await init(dir);
  const image = await writeImage(dir, layerSizes, { architecture: 'amd64', os: 'linux' });
  const { platform: _platform, ...manifest } = image.manifest;
  await writeIndexJson(dir, manifest, tag);
  return { manifest, digests: image.digests };
}

/** A multi-arch image: an OCI index over one image per platform. */
export async function generateMultiArchImage(
  dir: string,
  tag: string,
  platforms: { architecture: string; os: string }[],
  layerSizes: number[],
): Promise<GeneratedImage> {
  await init(dir);
  const images = [];
  for (const p of platforms) images.push(await writeImage(dir, layerSizes, p));
  const index = await writeJsonBlob(
    dir,
    { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: images.map((i) => i.manifest) },
    MediaType.ociIndex,
  );
  await writeIndexJson(dir, index, tag);
  return { manifest: index, digests: [...images.flatMap((i) => i.digests), index.digest] };
}
