import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { digestOf } from './digester.js';
import { isDigest } from './digest.js';
import { InvalidDigestError, InvalidRepositoryNameError, InvalidTagError } from './errors.js';
import {
  DIGEST_PATTERN,
  digestParamSchema,
  digestStringSchema,
  repositoryNameParamSchema,
  tagParamSchema,
} from './name-schemas.js';
import { isRepositoryName, isTag } from './reference-names.js';

/** The JSON Schema a document shows for a request parameter. */
const documented = (schema: z.ZodType) => z.toJSONSchema(schema, { io: 'input' });

// The documents promise a pattern; the parse functions decide. They must agree both ways.
describe('name schemas', () => {
  it('document exactly the digests parseDigest accepts', () => {
    const pattern = new RegExp(String(documented(digestParamSchema).pattern));
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.stringMatching(DIGEST_PATTERN),
          fc.stringMatching(/^sha(256|512|1):[a-fA-F0-9]{0,130}\n?$/),
        ),
        (input) => {
          expect(pattern.test(input)).toBe(isDigest(input));
          expect(digestStringSchema.safeParse(input).success).toBe(isDigest(input));
        },
      ),
    );
  });

  it('document exactly the repository names and tags the parse functions accept', () => {
    const repo = documented(repositoryNameParamSchema);
    const repoPattern = new RegExp(String(repo.pattern));
    const tagPattern = new RegExp(String(documented(tagParamSchema).pattern));
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.stringMatching(/^[a-z0-9._/-]{1,300}$/)), (input) => {
        expect(repoPattern.test(input) && input.length <= Number(repo.maxLength)).toBe(
          isRepositoryName(input),
        );
        expect(tagPattern.test(input)).toBe(isTag(input));
      }),
    );
  });

  it('parse with the content model, keeping its typed errors', () => {
    const digest = digestOf('x');
    expect(digestParamSchema.parse(digest.value)).toEqual(digest);
    expect(() => digestParamSchema.parse('sha256:nope')).toThrow(InvalidDigestError);
    expect(repositoryNameParamSchema.parse('team/app')).toBe('team/app');
    expect(() => repositoryNameParamSchema.parse('Team/App')).toThrow(InvalidRepositoryNameError);
    expect(tagParamSchema.parse('v1.2')).toBe('v1.2');
    expect(() => tagParamSchema.parse('.hidden')).toThrow(InvalidTagError);
  });
});
