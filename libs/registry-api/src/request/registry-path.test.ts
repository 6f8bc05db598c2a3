import { describe, expect, it } from 'vitest';
import { digestOf } from '@kraken/oci-content';
import { parseRegistryPath } from './registry-path.js';
import { parseReference, parseRepositoryName, parseTag } from './registry-names.js';

const digest = digestOf('x');

describe('registry paths', () => {
  it.each([
    ['/v2/', { kind: 'base' }],
    ['/v2', { kind: 'base' }],
    ['/v2/?x=1', { kind: 'base' }],
    ['/v2/_catalog?n=10', { kind: 'catalog' }],
    ['/v2/a/tags/list', { kind: 'tags', repo: 'a' }],
    ['/v2/a/b/c/manifests/latest', { kind: 'manifest', repo: 'a/b/c', reference: 'latest' }],
    ['/v2/x/manifests/y/manifests/z', { kind: 'manifest', repo: 'x/manifests/y', reference: 'z' }],
    ['/v2/a/blobs/uploads/', { kind: 'uploads', repo: 'a' }],
    ['/v2/a/blobs/uploads', { kind: 'uploads', repo: 'a' }],
    ['/v2/a/blobs/uploads/abc-123?digest=x', { kind: 'upload', repo: 'a', id: 'abc-123' }],
    [`/v2/a/blobs/${digest.value}`, { kind: 'blob', repo: 'a', digest }],
    [`/v2/a/referrers/${digest.value}`, { kind: 'referrers', repo: 'a', digest }],
    ['/v2/a/tags/list/', { kind: 'unknown' }],
    ['/v3/a/tags/list', { kind: 'unknown' }],
  ])('%s', (url, expected) => {
    expect(parseRegistryPath(url)).toEqual(expected);
  });

  it.each([
    '/v2/../a/tags/list',
    '/v2/a/./b/tags/list',
    '/v2/a%2fb/tags/list',
    '/v2/%2E%2E/tags/list',
    '/v2/a\\b/tags/list',
    '/v2/UPPER/tags/list',
    '/v2/a--/tags/list',
    '/v2/a/manifests/..',
  ])('rejects %s as NAME_INVALID', (url) => {
    expect(() => parseRegistryPath(url)).toThrow(
      expect.objectContaining({ code: 'KRAKEN_REGISTRY_NAME_INVALID' }),
    );
  });

  it('decodes only an encoded colon', () => {
    expect(parseRegistryPath(`/v2/a/blobs/${digest.value.replace(':', '%3a')}`)).toEqual({
      kind: 'blob',
      repo: 'a',
      digest,
    });
  });

  it('rejects malformed digests in blob and referrers paths', () => {
    for (const url of ['/v2/a/blobs/sha256:abc', '/v2/a/referrers/latest']) {
      expect(() => parseRegistryPath(url)).toThrow(
        expect.objectContaining({ code: 'KRAKEN_INVALID_DIGEST' }),
      );
    }
  });
});

describe('registry names', () => {
  it.each(['a', 'library/ubuntu', 'a.b_c__d---e/f0', 'x'.repeat(255)])('accepts name %s', (name) => {
    expect(parseRepositoryName(name)).toBe(name);
  });

  it.each(['', 'A', '-a', 'a-', 'a..b', 'a___b', 'a//b', '/a', 'a/', 'a b', 'x'.repeat(256)])(
    'rejects name %j',
    (name) => {
      expect(() => parseRepositoryName(name)).toThrow(
        expect.objectContaining({ code: 'KRAKEN_REGISTRY_NAME_INVALID' }),
      );
    },
  );

  it.each(['latest', '_x', 'V1.2-rc_3', 'a'.repeat(128)])('accepts tag %s', (tag) => {
    expect(parseTag(tag)).toBe(tag);
  });

  it.each(['', '.hidden', '-x', 'a/b', 'a:b', 'a'.repeat(129)])('rejects tag %j', (tag) => {
    expect(() => parseTag(tag)).toThrow(expect.objectContaining({ code: 'KRAKEN_REGISTRY_TAG_INVALID' }));
  });

  it('tells digests from tags by the colon', () => {
    expect(parseReference(digest.value)).toEqual({ digest });
    expect(parseReference('v1')).toEqual({ tag: 'v1' });
    expect(() => parseReference('sha256:zz')).toThrow(
      expect.objectContaining({ code: 'KRAKEN_INVALID_DIGEST' }),
    );
  });
});
