/**
 * Helpers of the swarm tests: a random blob stored straight on an origin, and an
 * agent's view of a blob (`GET /v1/blobs/{digest}/status`).
 */
import { createHash, randomBytes } from 'node:crypto';
import { expect } from 'vitest';

/** The agent's status answer; swarm fields are there once the blob went through the swarm. */
export interface BlobStatus {
  source: string;
  state: string;
  cached?: boolean;
  reason?: string;
  piecesDone?: number;
  pieceCount?: number;
  peersConnected?: number;
  bytesFromPeers?: number;
  bytesFromOrigins?: number;
  bytesUploaded?: number;
}

/** The agent's status of a blob; undefined while it knows none (or does not answer). */
export async function blobStatus(agent: string, digest: string): Promise<BlobStatus | undefined> {
  const res = await fetch(`${agent}/v1/blobs/${digest}/status`).catch(() => undefined);
  if (res?.status !== 200) return undefined;
  return (await res.json()) as BlobStatus;
}

/** PUTs `size` random bytes straight to an origin; returns the digest. */
export async function putRandomBlob(origin: string, size: number): Promise<string> {
  const data = randomBytes(size);
  const digest = `sha256:${createHash('sha256').update(data).digest('hex')}`;
  const put = await fetch(`${origin}/v1/blobs/${digest}`, {
    method: 'PUT',
    body: data,
    headers: { 'content-type': 'application/octet-stream' },
  });
  expect(put.status).toBe(201);
  return digest;
}

/** sha256 of a response body, streamed. */
export async function bodyDigest(res: Response): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of res.body ?? []) hash.update(chunk as Uint8Array);
  return `sha256:${hash.digest('hex')}`;
}
