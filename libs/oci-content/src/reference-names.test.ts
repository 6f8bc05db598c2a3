import { describe, expect, it } from 'vitest';
import { InvalidRepositoryNameError, InvalidTagError } from './errors.js';
import {
  MAX_REPOSITORY_NAME_LENGTH,
  isRegistryHost,
  isRepositoryName,
  parseRepositoryName,
  parseTag,
} from './reference-names.js';

describe('parseRepositoryName', () => {
  it.each([
    'ubuntu',
    'library/ubuntu',
    'a/b/c',
    'my-app',
    'my--app',
    'my.app',
    'my_app',
    'my__app',
    'a0/b1.c_d-e',
  ])('accepts %j', (name) => {
    expect(parseRepositoryName(name)).toBe(name);
  });

  it.each([
    ['', 'empty'],
    ['Ubuntu', 'uppercase'],
    ['../etc', 'traversal'],
    ['a/../b', 'traversal segment'],
    ['a/./b', 'dot segment'],
    ['/a', 'leading slash'],
    ['a/', 'trailing slash'],
    ['a//b', 'empty segment'],
    ['-a', 'leading separator'],
    ['a___b', 'three underscores'],
    ['a._b', 'mixed separators'],
    ['a\\b', 'backslash'],
    ['a\0b', 'NUL'],
    ['a b', 'space'],
    ['_tags', 'reserved-looking segment'],
    ['a/_tags', 'reserved-looking nested segment'],
  ])('rejects %j (%s)', (name) => {
    expect(() => parseRepositoryName(name)).toThrow(InvalidRepositoryNameError);
    expect(isRepositoryName(name)).toBe(false);
  });

  it('enforces the length limit', () => {
    expect(parseRepositoryName('a'.repeat(MAX_REPOSITORY_NAME_LENGTH))).toHaveLength(
      MAX_REPOSITORY_NAME_LENGTH,
    );
    expect(() => parseRepositoryName('a'.repeat(MAX_REPOSITORY_NAME_LENGTH + 1))).toThrow(/exceeds 255/);
  });
});

describe('parseTag', () => {
  it.each(['latest', 'v1.2.3', '_x', 'A-b_c.d', 'a'.repeat(128)])('accepts %j', (tag) => {
    expect(parseTag(tag)).toBe(tag);
  });

  it.each(['', '.hidden', '..', '-x', 'a/b', 'a:b', 'a'.repeat(129), 'tag\n'])('rejects %j', (tag) => {
    expect(() => parseTag(tag)).toThrow(InvalidTagError);
  });
});

describe('isRegistryHost', () => {
  it('accepts host names with an optional port', () => {
    for (const host of [
      'docker.io',
      'ghcr.io',
      'registry-1.docker.io',
      'localhost',
      'registry.local:5000',
      '127.0.0.1:5000',
    ])
      expect(isRegistryHost(host)).toBe(true);
  });

  it('refuses paths, schemes, upper case, empty labels and overlong names', () => {
    for (const host of [
      '',
      'docker.io/library',
      'http://docker.io',
      'Docker.io',
      'a..b',
      '-a.io',
      'a.io:',
      'a.io:123456',
      '../x',
      `${'a'.repeat(250)}.io`,
      'a b',
    ])
      expect(isRegistryHost(host)).toBe(false);
  });
});
