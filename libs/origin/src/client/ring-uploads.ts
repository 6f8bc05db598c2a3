/**
 * Chunked uploads over the origin ring. A session lives on the one origin that opened
 * it (its chunks are a file there), so the session id handed out names that origin:
 * `<origin's session id>.<base64url of its node id>`. The digest is unknown until the
 * commit, so sessions open on the first healthy node of a random key's order, which
 * spreads them; at the commit that origin stores the blob and copies it to the blob's
 * owners like any other upload. A session whose origin died is gone with it: its
 * calls fail, and the writer starts over.
 */
import { randomUUID } from 'node:crypto';
import { runWithFailover, type RingNode } from '@kraken/hashring';
import type { OriginNodeClient, OriginRing, OriginUploadClient } from './client-types.js';
import { UploadNotFoundError } from '../errors.js';
import { isRetryableOriginError } from './owner-walk.js';

export function createRingUploads(
  ring: OriginRing,
  clientOf: (node: RingNode) => OriginNodeClient,
): OriginUploadClient {
  const encode = (node: RingNode, id: string) => `${id}.${Buffer.from(node.id).toString('base64url')}`;

  /** The session's origin and its own id there; UploadNotFoundError when it names no member. */
  const locate = (uploadId: string): { node: RingNode; id: string } => {
    const dot = uploadId.lastIndexOf('.');
    const id = uploadId.slice(0, dot);
    const nodeId = Buffer.from(uploadId.slice(dot + 1), 'base64url').toString();
    const node = dot > 0 ? ring.members().find((member) => member.id === nodeId) : undefined;
    if (node === undefined) throw new UploadNotFoundError(uploadId.slice(0, 128));
    return { node, id };
  };

  /** A call to the session's origin, feeding passive health like failover does. */
  async function onOrigin<T>(uploadId: string, call: (client: OriginNodeClient, id: string) => Promise<T>) {
    const { node, id } = locate(uploadId);
    try {
      const value = await call(clientOf(node), id);
      ring.reportSuccess(node.id);
      return value;
    } catch (error) {
      if (isRetryableOriginError(error)) ring.reportFailure(node.id, error);
      throw error;
    }
  }

  return {
    async createUpload(signal) {
      const { value, node } = await runWithFailover(
        ring,
        randomUUID(),
        (candidate, attempt) => clientOf(candidate).createUpload(attempt.signal),
        {
          retries: Math.max(0, ring.members().length - 1),
          isRetryable: isRetryableOriginError,
          ...(signal === undefined ? {} : { signal }),
        },
      );
      return encode(node, value);
    },
    uploadChunk: (uploadId, body, chunk) => onOrigin(uploadId, (c, id) => c.uploadChunk(id, body, chunk)),
    async uploadOffset(uploadId, signal) {
      try {
        return await onOrigin(uploadId, (c, id) => c.uploadOffset(id, signal));
      } catch (error) {
        if (error instanceof UploadNotFoundError) return undefined;
        throw error;
      }
    },
    commitUpload: (uploadId, digest, signal) =>
      onOrigin(uploadId, (c, id) => c.commitUpload(id, digest, signal)),
    async cancelUpload(uploadId) {
      try {
        return await onOrigin(uploadId, (c, id) => c.cancelUpload(id));
      } catch (error) {
        if (error instanceof UploadNotFoundError) return false;
        throw error;
      }
    },
  };
}
