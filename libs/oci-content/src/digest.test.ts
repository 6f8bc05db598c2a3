import { describe, expect, it } from 'vitest';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import { DigestVerifyStream, digestOf } from './digester.js';
import { parseDigest, tryParseDigest } from './digest.js';
import { InvalidDigestError, DigestMismatchError } from './errors.js';

const sink = () => new Writable({ write: (_c, _e, cb) => cb() });

describe('parseDigest', () => {
  it('accepts sha256 and sha512', () => {
    const d = digestOf('hello');
    expect(parseDigest(d.value)).toEqual(d);
    expect(parseDigest(digestOf('hello', 'sha512').value).algorithm).toBe('sha512');
  });
  it.each([
    ['', 'missing'],
    ['sha256', 'no colon'],
    ['sha256:abc', 'short'],
    [`sha256:${'A'.repeat(64)}`, 'uppercase'],
    [`md5:${'a'.repeat(32)}`, 'unsupported'],
    [`sha256:${'a'.repeat(63)}/`, 'slash'],
    ['sha256:../../etc/passwd', 'traversal'],
  ])('rejects %j (%s)', (input) => {
    expect(() => parseDigest(input)).toThrow(InvalidDigestError);
    expect(tryParseDigest(input)).toBeUndefined();
  });
});

describe('DigestVerifyStream', () => {
  it('passes content with the expected digest', async () => {
    const v = new DigestVerifyStream({ expected: digestOf('abc'), expectedSize: 3 });
    await pipeline(Readable.from([Buffer.from('a'), Buffer.from('bc')]), v, sink());
    expect(v.digest.value).toBe(digestOf('abc').value);
  });
  it('fails on a digest mismatch before the end', async () => {
    const v = new DigestVerifyStream({ expected: digestOf('xyz') });
    await expect(pipeline(Readable.from([Buffer.from('abc')]), v, sink())).rejects.toBeInstanceOf(
      DigestMismatchError,
    );
  });
  it('fails once the size cap is crossed', async () => {
    const v = new DigestVerifyStream({ maxSize: 2 });
    await expect(pipeline(Readable.from([Buffer.from('abc')]), v, sink())).rejects.toThrow(/exceeds/);
  });
});
