import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { isValidObjectKey } from '@kraken/storage-backends';
import { digestOf } from '@kraken/oci-content';
import {
  catalogKey,
  decodeCatalogName,
  encodeCatalogName,
  manifestKey,
  referrerKey,
  tagKey,
} from './keys.js';
import { MAX_REPOSITORY_NAME_LENGTH } from '@kraken/oci-content';

const component = fc.stringMatching(/^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/);
const repositoryName = fc
  .array(component, { minLength: 1, maxLength: 4 })
  .map((parts) => parts.join('/'))
  .filter((name) => name.length <= MAX_REPOSITORY_NAME_LENGTH);

describe('catalog name encoding', () => {
  it('round-trips and yields one valid key segment', () => {
    fc.assert(
      fc.property(repositoryName, (name) => {
        const encoded = encodeCatalogName(name);
        expect(decodeCatalogName(encoded)).toBe(name);
        expect(encoded).not.toContain('/');
        expect(isValidObjectKey(catalogKey(name))).toBe(true);
      }),
    );
  });

  it('keeps the lexical order of names', () => {
    fc.assert(
      fc.property(repositoryName, repositoryName, (a, b) => {
        expect(Math.sign(compare(encodeCatalogName(a), encodeCatalogName(b)))).toBe(Math.sign(compare(a, b)));
      }),
    );
    // The case a naive path layout gets wrong: '-' sorts before '/'.
    expect(
      [encodeCatalogName('a/b'), encodeCatalogName('a-b'), encodeCatalogName('a')]
        .sort()
        .map(decodeCatalogName),
    ).toEqual(['a', 'a-b', 'a/b']);
  });
});

describe('object keys', () => {
  it('are valid for the longest names and digests', () => {
    const repo = `${'a'.repeat(127)}/${'b'.repeat(127)}`;
    const sha512 = digestOf('x', 'sha512');
    expect(isValidObjectKey(tagKey(repo, 'T'.repeat(128)))).toBe(true);
    expect(isValidObjectKey(manifestKey(repo, sha512))).toBe(true);
    expect(isValidObjectKey(referrerKey(repo, sha512, sha512))).toBe(true);
  });
});

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
