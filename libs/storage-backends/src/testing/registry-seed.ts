/**
 * Seeds a registry through its own API, as a client would push: monolithic blob
 * uploads (POST, then PUT with the digest) and manifest PUTs by tag, each with the
 * Authorization header the caller provides for the push scope.
 */
import { digestOf, MediaType, type Digest } from '@kraken/oci-content';

export type Authorize = (scope: string) => Promise<string | undefined>;

async function send(url: string, init: RequestInit, expected: number): Promise<Response> {
  const res = await fetch(url, init);
  if (res.status !== expected)
    throw new Error(`${init.method ?? 'GET'} ${url}: ${res.status} ${await res.text()}`);
  return res;
}

function authHeaders(authorization: string | undefined): Record<string, string> {
  return authorization === undefined ? {} : { authorization };
}

export async function pushBlob(options: {
  registry: string;
  repository: string;
  content: Buffer;
  authorize: Authorize;
}): Promise<Digest> {
  const { registry, repository, content } = options;
  const auth = authHeaders(await options.authorize(`repository:${repository}:pull,push`));
  const digest = digestOf(content);
  const started = await send(
    `${registry}/v2/${repository}/blobs/uploads/`,
    { method: 'POST', headers: auth },
    202,
  );
  await started.arrayBuffer();
  const location = new URL(started.headers.get('location') ?? '', registry);
  location.searchParams.set('digest', digest.value);
  const done = await send(
    location.toString(),
    { method: 'PUT', headers: { ...auth, 'content-type': 'application/octet-stream' }, body: content },
    201,
  );
  await done.arrayBuffer();
  return digest;
}

/** PUTs a manifest under `reference` (a tag or its digest); returns its digest. */
export async function pushManifest(options: {
  registry: string;
  repository: string;
  reference: string;
  manifest: Buffer;
  mediaType: string;
  authorize: Authorize;
}): Promise<Digest> {
  const { registry, repository, reference, manifest, mediaType } = options;
  const auth = authHeaders(await options.authorize(`repository:${repository}:pull,push`));
  const res = await send(
    `${registry}/v2/${repository}/manifests/${reference}`,
    { method: 'PUT', headers: { ...auth, 'content-type': mediaType }, body: manifest },
    201,
  );
  await res.arrayBuffer();
  return digestOf(manifest);
}

/** Pushes a config and one layer, then an OCI image manifest under each tag; returns its digest. */
export async function pushImage(options: {
  registry: string;
  repository: string;
  layer: Buffer;
  tags: readonly string[];
  authorize: Authorize;
}): Promise<{ manifest: Digest; layer: Digest; config: Digest }> {
  const configBytes = Buffer.from(
    JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }),
  );
  const config = await pushBlob({ ...options, content: configBytes });
  const layer = await pushBlob({ ...options, content: options.layer });
  const manifestBytes = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: { mediaType: MediaType.ociConfig, digest: config.value, size: configBytes.length },
      layers: [
        {
          mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
          digest: layer.value,
          size: options.layer.length,
        },
      ],
    }),
  );
  for (const tag of options.tags) {
    await pushManifest({
      ...options,
      reference: tag,
      manifest: manifestBytes,
      mediaType: MediaType.ociManifest,
    });
  }
  return { manifest: digestOf(manifestBytes), layer, config };
}
