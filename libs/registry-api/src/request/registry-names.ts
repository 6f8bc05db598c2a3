/**
 * Validation of the identifiers a client puts in a URL: repository names, tags and
 * digests. Everything is checked here, against the distribution spec's grammar,
 * before it reaches a store (where it may become part of a storage key or path).
 */
import { z } from 'zod';
import {
  InvalidDigestError,
  MAX_REPOSITORY_NAME_LENGTH,
  isRepositoryName,
  isTag,
  parseDigest,
  type Digest,
} from '@kraken/oci-content';
import { NameInvalidError, TagInvalidError } from '../errors.js';

export { isTag, MAX_REPOSITORY_NAME_LENGTH };

// The grammar itself is oci-content's, the one copy every component validates names with;
// this module only turns a violation into the spec's NAME_INVALID and TAG_INVALID errors.
export const repositoryNameSchema = z
  .string()
  .refine(isRepositoryName)
  .describe('Repository name as the OCI distribution spec defines it, e.g. "library/ubuntu".');

export const tagSchema = z
  .string()
  .refine(isTag)
  .describe('Tag: up to 128 characters of [a-zA-Z0-9._-], not starting with "." or "-".');

export type Reference = { readonly tag: string } | { readonly digest: Digest };

export function parseRepositoryName(input: string): string {
  const parsed = repositoryNameSchema.safeParse(input);
  if (!parsed.success) throw new NameInvalidError(`invalid repository name "${shorten(input)}"`);
  return parsed.data;
}

export function parseTag(input: string): string {
  if (!isTag(input)) throw new TagInvalidError(`invalid tag "${shorten(input)}"`);
  return input;
}

/** A manifest reference: a digest when it contains ':', otherwise a tag. */
export function parseReference(input: string): Reference {
  if (input.includes(':')) return { digest: parseDigest(input) };
  return { tag: parseTag(input) };
}

/** Like parseDigest, but reports a missing value with the same error type. */
export function parseDigestParam(input: unknown, what: string): Digest {
  if (typeof input !== 'string' || input.length === 0) throw new InvalidDigestError(`${what} is missing`);
  return parseDigest(input);
}

function shorten(s: string): string {
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}
