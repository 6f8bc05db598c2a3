/**
 * The URLs and headers this API hands back to clients: pullable blob and manifest
 * locations, and the state of an upload session (Location, Range, Docker-Upload-UUID).
 * Locations are relative paths, which the spec allows and which survive proxies.
 */
import type { FastifyReply } from 'fastify';
import type { Digest } from '@kraken/oci-content';
import { uploadRange } from '../request/byte-range.js';

export function blobLocation(repo: string, digest: Digest): string {
  return `/v2/${repo}/blobs/${digest.value}`;
}

export function manifestLocation(repo: string, digest: Digest): string {
  return `/v2/${repo}/manifests/${digest.value}`;
}

export function uploadLocation(repo: string, id: string): string {
  return `/v2/${repo}/blobs/uploads/${id}`;
}

/** Headers describing an upload session whose next chunk starts at `offset`. */
export function setUploadHeaders(
  reply: FastifyReply,
  session: { repo: string; id: string; offset: number },
): FastifyReply {
  return reply
    .header('location', uploadLocation(session.repo, session.id))
    .header('range', uploadRange(session.offset))
    .header('docker-upload-uuid', session.id);
}
