/**
 * Images in and out of a cluster through its OCI endpoints: generated layouts pushed
 * and pulled with skopeo, small images pushed with plain HTTP (fast, and with the tag
 * write as a separate step, so two clusters can take it at the same instant), and the
 * digest a tag resolves to through a proxy or an agent.
 */
import { randomBytes } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { digestOf, MediaType } from '@kraken/oci-content';
import { hostOf } from './cluster.js';
import { generateImage } from './oci-layout.js';
import { layoutBlobDigests, layoutTopDigest } from './oci-layout-reader.js';
import { skopeoCopy } from './skopeo.js';

export interface ImageBlob {
  readonly digest: string;
  readonly size: number;
}

/** An image as pushed: every blob of its closure (config, layers, manifest) with its size. */
export interface PushedImage {
  readonly repo: string;
  readonly tag: string;
  /** Digest of the manifest the tag points at. */
  readonly manifest: string;
  /** Config, layers and the manifest itself. */
  readonly blobs: readonly ImageBlob[];
}

/** Bytes of an image's closure (what replication copies when the remote has none of it). */
export function imageBytes(image: PushedImage): number {
  return image.blobs.reduce((sum, blob) => sum + blob.size, 0);
}

/** Generates a layout with random layers of `layerSizes` bytes under `dir`, pushes it with skopeo. */
export async function pushGeneratedImage(options: {
  proxy: string;
  dir: string;
  repo: string;
  tag: string;
  layerSizes: number[];
}): Promise<PushedImage> {
  const { proxy, dir, repo, tag } = options;
  const image = await generateImage(dir, tag, options.layerSizes);
  await skopeoCopy(`oci:${dir}:${tag}`, `docker://${hostOf(proxy)}/${repo}:${tag}`);
  const blobs: ImageBlob[] = [];
  for (const digest of image.digests) {
    const { size } = await stat(join(dir, 'blobs', 'sha256', digest.slice('sha256:'.length)));
    blobs.push({ digest, size });
  }
  return { repo, tag, manifest: image.manifest.digest, blobs };
}

/** Pulls `repo:tag` from a registry (an agent) into an OCI layout with skopeo. */
export async function pullImage(options: {
  registry: string;
  repo: string;
  tag: string;
  dir: string;
}): Promise<{ manifest: string; digests: string[] }> {
  const { registry, repo, tag, dir } = options;
  await skopeoCopy(`docker://${hostOf(registry)}/${repo}:${tag}`, `oci:${dir}:${tag}`);
  return { manifest: await layoutTopDigest(dir), digests: await layoutBlobDigests(dir) };
}

/** An image's bytes, built in memory: a config, its layers and the manifest over them. */
export interface ImageContent {
  readonly blobs: readonly Buffer[];
  readonly manifest: Buffer;
}

/** A one-platform image whose config carries `label`, so that every call gives new digests. */
export function buildImage(label: string, layers: readonly Buffer[] = [randomBytes(2048)]): ImageContent {
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: { Labels: { label } },
      nonce: randomNonce(),
    }),
  );
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: { mediaType: MediaType.ociConfig, digest: digestOf(config).value, size: config.byteLength },
      layers: layers.map((layer) => ({
        mediaType: 'application/vnd.oci.image.layer.v1.tar',
        digest: digestOf(layer).value,
        size: layer.byteLength,
      })),
    }),
  );
  return { blobs: [config, ...layers], manifest };
}

function randomNonce(): string {
  return randomBytes(8).toString('hex');
}

/** Monolithic uploads of every blob of `image` to `repo` (POST ?digest=); no manifest, no tag. */
export async function uploadBlobs(registry: string, repo: string, image: ImageContent): Promise<void> {
  for (const blob of image.blobs) {
    const digest = digestOf(blob).value;
    const res = await fetch(`${registry}/v2/${repo}/blobs/uploads/?digest=${digest}`, {
      method: 'POST',
      body: blob,
      headers: { 'content-type': 'application/octet-stream' },
    });
    if (res.status !== 201)
      throw new Error(`blob upload ${repo}@${digest}: ${res.status} ${await res.text()}`);
  }
}

/** PUT /v2/<repo>/manifests/<tag>: stores the manifest and writes the tag. */
export async function putManifest(
  registry: string,
  repo: string,
  tag: string,
  image: ImageContent,
): Promise<void> {
  const res = await fetch(`${registry}/v2/${repo}/manifests/${tag}`, {
    method: 'PUT',
    body: image.manifest,
    headers: { 'content-type': MediaType.ociManifest },
  });
  if (res.status !== 201) throw new Error(`manifest PUT ${repo}:${tag}: ${res.status} ${await res.text()}`);
}

/** Pushes a small image over HTTP (blobs, then manifest and tag). */
export async function pushSmallImage(
  registry: string,
  repo: string,
  tag: string,
  image: ImageContent = buildImage(`${repo}:${tag}`),
): Promise<PushedImage> {
  await uploadBlobs(registry, repo, image);
  await putManifest(registry, repo, tag, image);
  return describeImage(repo, tag, image);
}

export function describeImage(repo: string, tag: string, image: ImageContent): PushedImage {
  const blobs = [...image.blobs, image.manifest].map((bytes) => ({
    digest: digestOf(bytes).value,
    size: bytes.byteLength,
  }));
  return { repo, tag, manifest: digestOf(image.manifest).value, blobs };
}

const ACCEPT = [MediaType.ociManifest, MediaType.ociIndex].join(', ');

/**
 * The digest `repo:tag` resolves to through a registry (proxy or agent); undefined
 * when it answers anything but 200 (unknown tag, or a dependency down).
 */
export async function servedDigest(registry: string, repo: string, tag: string): Promise<string | undefined> {
  const res = await fetch(`${registry}/v2/${repo}/manifests/${tag}`, { headers: { accept: ACCEPT } }).catch(
    () => undefined,
  );
  if (res === undefined) return undefined;
  const body = Buffer.from(await res.arrayBuffer());
  return res.status === 200 ? digestOf(body).value : undefined;
}

/** DELETE /v2/<repo>/manifests/<tag> (a tag delete); returns the status. */
export async function deleteTag(registry: string, repo: string, tag: string): Promise<number> {
  const res = await fetch(`${registry}/v2/${repo}/manifests/${tag}`, { method: 'DELETE' });
  await res.arrayBuffer();
  return res.status;
}
