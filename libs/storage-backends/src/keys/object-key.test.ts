import { describe, expect, it } from 'vitest';
import { isValidObjectKey, MAX_KEY_LENGTH, validateKeyPrefix, validateObjectKey } from './object-key.js';
import { UNSAFE_KEYS } from '../testing/backend-conformance.js';

describe('object keys', () => {
  it('accepts relative paths of safe segments', () => {
    expect(validateObjectKey('blobs/sha256/ab/abcdef')).toEqual(['blobs', 'sha256', 'ab', 'abcdef']);
    expect(validateObjectKey('.hidden/a..b/-x_y.z')).toEqual(['.hidden', 'a..b', '-x_y.z']);
    expect(isValidObjectKey('x'.repeat(255))).toBe(true);
  });

  it.each(UNSAFE_KEYS.map((k) => [JSON.stringify(k.slice(0, 40)), k]))('rejects %s', (_label, key) => {
    expect(() => validateObjectKey(key)).toThrow(
      expect.objectContaining({ code: 'KRAKEN_INVALID_KEY', statusCode: 400 }),
    );
    expect(isValidObjectKey(key)).toBe(false);
  });

  it('caps key and segment length', () => {
    expect(isValidObjectKey('x'.repeat(256))).toBe(false);
    const long = Array.from({ length: 10 }, () => 'y'.repeat(110)).join('/');
    expect(long.length).toBeGreaterThan(MAX_KEY_LENGTH);
    expect(isValidObjectKey(long)).toBe(false);
  });

  it('names the problem in the error', () => {
    expect(() => validateObjectKey('a/../b')).toThrow(/"\.\." segment/);
    expect(() => validateObjectKey('/etc/passwd')).toThrow(/leading "\/"/);
  });

  it('accepts partial prefixes but not traversal or odd characters', () => {
    expect(validateKeyPrefix('')).toBe('');
    expect(validateKeyPrefix('blobs/sha256/a')).toBe('blobs/sha256/a');
    expect(validateKeyPrefix('a/..')).toBe('a/..');
    for (const bad of ['../', 'a/../b', './', '/a', 'a//b', 'a\\b', 'a b']) {
      expect(() => validateKeyPrefix(bad), bad).toThrow(
        expect.objectContaining({ code: 'KRAKEN_INVALID_KEY' }),
      );
    }
  });
});
