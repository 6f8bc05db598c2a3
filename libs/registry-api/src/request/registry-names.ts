/**
 * Validation of the identifiers a client puts in a URL: repository names, tags and
 * digests. Everything is checked here, against the distribution spec's grammar,
 * before it reaches a store (where it may become part of a storage key or path).
 */
import { z } from 'zod';
import { InvalidDigestError, parseDigest, type Digest } from '@kraken/oci-content';
import { NameInvalidError, TagInvalidError } from '../errors.js';

/** The spec's `<name>` grammar, anchored. It excludes `..`, `\`, `%` and empty components. */
const NAME_PATTERN = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$/;
const TAG_PATTERN = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;

/** Clients limit `host/name` to 255 characters; the name alone can never be longer. */
export const MAX_REPOSITORY_NAME_LENGTH = 255;

export const repositoryNameSchema = z
  .string()
  .min(1)
  .max(MAX_REPOSITORY_NAME_LENGTH)
  .regex(NAME_PATTERN)
  .describe('Repository name as the OCI distribution spec defines it, e.g. "library/ubuntu".');

export const tagSchema = z
  .string()
  .regex(TAG_PATTERN)
  .describe('Tag: up to 128 characters of [a-zA-Z0-9._-], not starting with "." or "-".');

export type Reference = { readonly tag: string } | { readonly digest: Digest };

export function parseRepositoryName(input: string): string {
  const parsed = repositoryNameSchema.safeParse(input);
  if (!parsed.success) throw new NameInvalidError(`invalid repository name "${shorten(input)}"`);
  return parsed.data;
}

export function isTag(input: string): boolean {
  return tagSchema.safeParse(input).success;
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
