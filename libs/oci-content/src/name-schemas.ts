/**
 * Digests, repository names and tags as zod schemas, for the edge of an API. A
 * `*ParamSchema` parses with the content model's own parse function (so a bad value
 * is answered with that function's typed error and code) and renders as JSON Schema
 * with the grammar as its `pattern`, so an API document generated from the schemas
 * describes exactly what the handler accepts. `digestStringSchema` is the plain string
 * form, for fields of JSON bodies validated by zod.
 */
import { z } from 'zod';
import { parseDigest } from './digest.js';
import {
  MAX_REPOSITORY_NAME_LENGTH,
  REPOSITORY_NAME_PATTERN,
  TAG_PATTERN,
  parseRepositoryName,
  parseTag,
} from './reference-names.js';

/** Exactly the strings parseDigest accepts: sha256 or sha512, lowercase hex of the right length. */
export const DIGEST_PATTERN = /^(?:sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/;

export const digestStringSchema = z
  .string()
  .regex(DIGEST_PATTERN, 'must be a sha256 or sha512 OCI digest')
  .describe('An OCI digest, `sha256:<64 hex>` or `sha512:<128 hex>`.');

export const digestParamSchema = z
  .string()
  .meta({
    pattern: DIGEST_PATTERN.source,
    description: 'An OCI digest, `sha256:<64 hex>` or `sha512:<128 hex>`.',
  })
  .transform((value) => parseDigest(value));

export const repositoryNameParamSchema = z
  .string()
  .meta({
    pattern: REPOSITORY_NAME_PATTERN.source,
    maxLength: MAX_REPOSITORY_NAME_LENGTH,
    description: 'A repository name of the distribution spec, e.g. `library/nginx`.',
  })
  .transform((value) => parseRepositoryName(value));

export const tagParamSchema = z
  .string()
  .meta({ pattern: TAG_PATTERN.source, description: 'A tag of the distribution spec, e.g. `v1.2`.' })
  .transform((value) => parseTag(value));
