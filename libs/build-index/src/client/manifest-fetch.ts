/**
 * Reads a manifest document (stored on the origins as an ordinary blob) into memory,
 * capped at the manifest size limit and verified against its digest: manifests are the
 * only content that is ever buffered, and only because they are small and must be parsed.
 */
import type { Readable } from 'node:stream';
import {
  ContentTooLargeError,
  DigestMismatchError,
  MAX_MANIFEST_BYTES,
  digestOf,
  type Digest,
} from '@kraken/oci-content';

export async function readManifestBytes(
  stream: Readable,
  digest: Digest,
  limit = MAX_MANIFEST_BYTES,
): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > limit) {
      stream.destroy();
      throw new ContentTooLargeError(limit, `manifest ${digest.value}`);
    }
    chunks.push(chunk);
  }
  const bytes = Buffer.concat(chunks, total);
  const actual = digestOf(bytes, digest.algorithm);
  if (actual.value !== digest.value) throw new DigestMismatchError(digest.value, actual.value);
  return bytes;
}
