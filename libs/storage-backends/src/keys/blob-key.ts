/**
 * Where a content-addressed blob lives in a backend's key space:
 * `blobs/<algorithm>/<first 2 hex>/<hex>`. The content store writes blobs there, and
 * read-only backends (http, registry) recognise such keys to serve blobs by digest.
 */
import { tryParseDigest, type Digest, type DigestAlgorithm } from '@kraken/oci-content';

const BLOBS = 'blobs';

/** The backend key of a blob. */
export function blobKey(digest: Digest): string {
  return `${BLOBS}/${digest.algorithm}/${digest.hex.slice(0, 2)}/${digest.hex}`;
}

/** The list prefix of every blob key, or of those of one algorithm. */
export function blobKeyPrefix(algorithm?: DigestAlgorithm): string {
  return algorithm === undefined ? `${BLOBS}/` : `${BLOBS}/${algorithm}/`;
}

/** The digest a blob key (as `blobKey` makes them) names, if it is one. */
export function digestOfKey(key: string): Digest | undefined {
  const parts = key.split('/');
  if (parts.length !== 4 || parts[0] !== BLOBS) return undefined;
  const [, algorithm, shard, hex] = parts;
  const digest = tryParseDigest(`${algorithm}:${hex}`);
  return digest !== undefined && digest.hex.slice(0, 2) === shard ? digest : undefined;
}
