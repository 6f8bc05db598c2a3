// Benchmark content: random blobs written to disk in chunks (never held whole in memory), their
// sha256 digests computed while writing, and an OCI image manifest that references them.
import { createHash, randomFillSync } from 'node:crypto';
import { open } from 'node:fs/promises';
import { join } from 'node:path';

const CHUNK = 1024 * 1024;

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

/**
 * Writes `count` layers of `size` bytes plus a small config blob under `dir`.
 * Returns { blobs: [{ path, digest, size }], config: {...}, manifest: { body, digest, mediaType } }.
 */
export async function createFixtures({ dir, count, size }) {
  const blobs = [];
  for (let i = 0; i < count; i++) {
    const path = join(dir, `layer-${i}.bin`);
    blobs.push({ path, digest: await writeRandomFile(path, size), size });
  }
  const configBody = Buffer.from(
    JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }),
  );
  const configPath = join(dir, 'config.json');
  const cfh = await open(configPath, 'w');
  await cfh.writeFile(configBody);
  await cfh.close();
  const config = {
    path: configPath,
    digest: `sha256:${createHash('sha256').update(configBody).digest('hex')}`,
    size: configBody.length,
  };

  const mediaType = 'application/vnd.oci.image.manifest.v1+json';
  const body = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType,
      config: {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        digest: config.digest,
        size: config.size,
      },
      layers: blobs.map((b) => ({
        mediaType: 'application/vnd.oci.image.layer.v1.tar',
        digest: b.digest,
        size: b.size,
      })),
    }),
  );
  const manifest = { body, mediaType, digest: `sha256:${createHash('sha256').update(body).digest('hex')}` };
  return { blobs, config, manifest };
}
