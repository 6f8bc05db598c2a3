/**
 * Object keys: '/'-separated relative paths of safe segments. Every backend checks a
 * key here before the key touches a path or a URL, so traversal ('..'), absolute
 * paths, backslashes and control characters never get further than this file.
 */
import { InvalidKeyError } from '../errors.js';

export const MAX_KEY_LENGTH = 1024;
export const MAX_SEGMENT_LENGTH = 255;

const SEGMENT = /^[A-Za-z0-9._-]+$/;
const PREFIX = /^[A-Za-z0-9._/-]*$/;

/** Returns the key's segments, or throws InvalidKeyError naming the problem. */
export function validateObjectKey(key: string): string[] {
  if (typeof key !== 'string' || key.length === 0) throw new InvalidKeyError(String(key), 'empty key');
  if (key.length > MAX_KEY_LENGTH) throw new InvalidKeyError(key, `longer than ${MAX_KEY_LENGTH} characters`);
  if (key.startsWith('/')) throw new InvalidKeyError(key, 'leading "/"');
  const segments = key.split('/');
  for (const segment of segments) {
    if (segment.length === 0) throw new InvalidKeyError(key, 'empty segment');
    if (segment === '.' || segment === '..') throw new InvalidKeyError(key, `"${segment}" segment`);
    if (segment.length > MAX_SEGMENT_LENGTH)
      throw new InvalidKeyError(key, `segment longer than ${MAX_SEGMENT_LENGTH}`);
    if (!SEGMENT.test(segment)) throw new InvalidKeyError(key, 'segments may only contain [A-Za-z0-9._-]');
  }
  return segments;
}

export function isValidObjectKey(key: string): boolean {
  try {
    validateObjectKey(key);
    return true;
  } catch {
    return false;
  }
}

/**
 * A list prefix is any leading part of a key (it may end inside a segment or with
 * '/'), so it is checked for characters and shape rather than as whole segments.
 */
export function validateKeyPrefix(prefix: string): string {
  if (typeof prefix !== 'string') throw new InvalidKeyError(String(prefix), 'prefix is not a string');
  if (prefix.length > MAX_KEY_LENGTH)
    throw new InvalidKeyError(prefix, `longer than ${MAX_KEY_LENGTH} characters`);
  if (!PREFIX.test(prefix)) throw new InvalidKeyError(prefix, 'prefix may only contain [A-Za-z0-9._/-]');
  if (prefix.startsWith('/')) throw new InvalidKeyError(prefix, 'leading "/"');
  if (prefix.includes('//')) throw new InvalidKeyError(prefix, 'empty segment');
  // Only complete segments (those followed by '/') can be judged; "a/.." may still
  // begin the valid key "a/..b".
  const complete = prefix.split('/').slice(0, -1);
  if (complete.some((s) => s === '.' || s === '..')) throw new InvalidKeyError(prefix, '"." or ".." segment');
  return prefix;
}
