/**
 * The build-index keeps its state in whatever backend it is configured with: here
 * MinIO. A tag written through its API is an object under the build-index's prefix in
 * the bucket, and is still there after the build-index process is restarted.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digestOf, MediaType } from '@kraken/oci-content';
import type { StorageBackend } from '@kraken/storage-backends';
import { startCluster, type Cluster } from './support/cluster.js';
import { minioBackend, putBlob, randomBlob, type TestBlob } from './support/origin-storage.js';

let work: string;
let cluster: Cluster;
let backend: StorageBackend;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'kraken-e2e-build-index-s3-'));
  cluster = await startCluster({ dir: join(work, 'cluster'), agents: 0, storage: 's3' });
  backend = minioBackend(cluster.minio!.url, 'build-index-0');
});

afterAll(async () => {
  await backend?.close();
  await cluster?.stop();
  await rm(work, { recursive: true, force: true });
});

function jsonBlob(value: unknown): TestBlob {
  const bytes = Buffer.from(JSON.stringify(value));
  return { digest: digestOf(bytes), bytes };
}

describe('build-index on MinIO', () => {
  it('persists tags in the bucket and serves them after a restart', async () => {
    const origin = cluster.endpoints.origin[0]!;
    const repo = 'e2e/tags';
    const layer = randomBlob(10_000);
    const config = jsonBlob({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } });
    const manifest = jsonBlob({
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: { mediaType: MediaType.ociConfig, digest: config.digest.value, size: config.bytes.length },
      layers: [
        { mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: layer.digest.value, size: 10_000 },
      ],
    });
    for (const blob of [layer, config, manifest]) await putBlob(origin, blob, repo);

    const tagUrl = () =>
      `${cluster.endpoints['build-index'][0]!}/v1/repositories/${encodeURIComponent(repo)}/tags/v1`;
    const put = await fetch(tagUrl(), {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ digest: manifest.digest.value }),
    });
    expect(put.status).toBe(200);

    const keys = (await backend.list()).keys;
    expect(keys).toContain(`repositories/${repo}/_tags/v1`);

    await cluster.restart('build-index-0');
    const got = await fetch(tagUrl());
    expect(got.status).toBe(200);
    expect(await got.json()).toMatchObject({ digest: manifest.digest.value });
  });
});
