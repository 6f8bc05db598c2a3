/**
 * The key prefix of the bucket backends (S3, GCS): a configured "kraken/origin" (with
 * or without a trailing '/') puts key `k` at object name `kraken/origin/k`, and the
 * listing strips it again. The prefix is checked as whole key segments so a config can
 * never produce a name outside it.
 */
import { InvalidKeyError } from '../errors.js';
import { validateObjectKey } from '../keys/object-key.js';

export interface BucketPrefix {
  /** '' or the prefix ending in '/'. */
  readonly base: string;
  /** Object name of a (validated) key. */
  nameOf(key: string): string;
  /** Key of an object name under the prefix, or undefined for a name outside it. */
  keyOf(name: string): string | undefined;
}

/** For config schemas: whether `bucketPrefix` accepts the value. */
export function isValidBucketPrefix(configured: string): boolean {
  try {
    bucketPrefix(configured);
    return true;
  } catch {
    return false;
  }
}

export function bucketPrefix(configured: string): BucketPrefix {
  const trimmed = configured.endsWith('/') ? configured.slice(0, -1) : configured;
  if (trimmed !== '') {
    try {
      validateObjectKey(trimmed);
    } catch (err) {
      throw new InvalidKeyError(configured, `bucket prefix: ${(err as Error).message}`);
    }
  }
  const base = trimmed === '' ? '' : `${trimmed}/`;
  return {
    base,
    nameOf: (key) => base + key,
    keyOf: (name) =>
      name.startsWith(base) && name.length > base.length ? name.slice(base.length) : undefined,
  };
}
