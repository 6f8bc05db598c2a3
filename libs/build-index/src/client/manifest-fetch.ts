/**
 * Reads a manifest document (stored on the origins as an ordinary blob) into memory,
 * capped at the manifest size limit and verified against its digest: manifests are the
 * only content that is ever buffered, and only because they are small and must be parsed.
 */
import type { Readable } from 'node:stream';
import { readBounded } from '@kraken/foundation';
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
  const { bytes } = await readBounded(stream, limit);
  if (bytes === undefined) throw new ContentTooLargeError(limit, `manifest ${digest.value}`);
  const actual = digestOf(bytes, digest.algorithm);
  if (actual.value !== digest.value) throw new DigestMismatchError(digest.value, actual.value);
  return bytes;
}
