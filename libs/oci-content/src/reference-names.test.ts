import { describe, expect, it } from 'vitest';
import { InvalidRepositoryNameError, InvalidTagError } from './errors.js';
import {
  MAX_REPOSITORY_NAME_LENGTH,
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
