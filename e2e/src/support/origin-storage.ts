/**
 * Helpers of the storage fault tests: pushing blobs straight to an origin, reading its
 * write-back and cache metrics, and re-hashing what the backend holds.
 */
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { digestOf, DigestVerifyStream, type Digest } from '@kraken/oci-content';
import {
  createBackend,
  createContentStore,
  storageBackendSchema,
  type StorageBackend,
} from '@kraken/storage-backends';

export interface TestBlob {
  readonly digest: Digest;
  readonly bytes: Buffer;
}

export function randomBlob(size: number): TestBlob {
  const bytes = randomBytes(size);
  return { digest: digestOf(bytes), bytes };
}

/** PUT /v1/blobs/:digest?namespace=...; throws unless the origin stored it. */
export async function putBlob(origin: string, blob: TestBlob, namespace: string): Promise<void> {
  const res = await fetch(
    `${origin}/v1/blobs/${blob.digest.value}?namespace=${encodeURIComponent(namespace)}`,
    {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream' },
      body: blob.bytes,
    },
  );
  if (res.status !== 201) throw new Error(`PUT ${blob.digest.value}: ${res.status} ${await res.text()}`);
}

/** GET /v1/blobs/:digest, the body's digest recomputed. */
export async function pullDigest(origin: string, digest: Digest): Promise<string> {
  const res = await fetch(`${origin}/v1/blobs/${digest.value}`);
  if (res.status !== 200 || res.body === null) throw new Error(`GET ${digest.value}: ${res.status}`);
  const verify = new DigestVerifyStream();
  await pipeline(res.body, verify, discard());
  return verify.digest.value;
}

/** The value of an unlabelled (or exactly labelled) metric of `origin`; 0 when absent. */
export async function metric(origin: string, name: string): Promise<number> {
  const text = await (await fetch(`${origin}/metrics`)).text();
  const escaped = name.replace(/[{}"=]/g, (c) => `\\${c}`);
  const match = new RegExp(`^${escaped} ([0-9.e+-]+)$`, 'm').exec(text);
  return match ? Number(match[1]) : 0;
}

/** The S3 backend config of the devcluster's MinIO under `prefix`. */
export function minioBackend(endpoint: string, prefix: string): StorageBackend {
  return createBackend(
    storageBackendSchema().parse({
      type: 's3',
      bucket: 'kraken',
      prefix,
      endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: 'kraken-dev', secretAccessKey: 'kraken-dev-secret' },
    }),
  );
}

/** Every digest the backend holds the blob of, each re-hashed from the backend's bytes. */
export async function backendDigests(backend: StorageBackend, digests: readonly Digest[]): Promise<string[]> {
  const store = createContentStore({ backend });
  const found: string[] = [];
  for (const digest of digests) {
    if ((await store.stat(digest)) === undefined) continue;
    const verify = new DigestVerifyStream();
    await pipeline(await store.read(digest), verify, discard());
    found.push(verify.digest.value);
  }
  return found;
}

function discard(): Writable {
  return new Writable({ write: (_chunk, _encoding, callback) => callback() });
}
