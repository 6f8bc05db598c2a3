import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { readBounded, readPrefix } from './bounded-read.js';

describe('readBounded', () => {
  it('reads a body of up to the limit whole', async () => {
    const result = await readBounded(Readable.from([Buffer.from('abc'), Buffer.from('de')]), 5);
    expect(result.bytes?.toString()).toBe('abcde');
    expect(result.size).toBe(5);
  });

  it('stops at the first byte over the limit and destroys the source', async () => {
    let produced = 0;
    const source = new Readable({
      read() {
        produced += 1;
        this.push(Buffer.alloc(1024));
      },
    });
    const result = await readBounded(source, 4096);
    expect(result.bytes).toBeUndefined();
    expect(result.size).toBe(5 * 1024);
    expect(source.destroyed).toBe(true);
    expect(produced).toBeLessThan(10);
  });

  it('accepts plain Uint8Array chunks', async () => {
    async function* chunks() {
      yield new Uint8Array([1, 2]);
      yield new Uint8Array([3]);
    }
    const result = await readBounded(chunks(), 3);
    expect([...(result.bytes ?? [])]).toEqual([1, 2, 3]);
  });
});

describe('readPrefix', () => {
  it('keeps the first bytes of a longer body and destroys the source', async () => {
    const source = Readable.from([Buffer.from('abcdef'), Buffer.from('ghij')]);
    expect((await readPrefix(source, 8)).toString()).toBe('abcdefgh');
    expect(source.destroyed).toBe(true);
  });

  it('reads a shorter body whole', async () => {
    expect((await readPrefix(Readable.from([Buffer.from('abc')]), 8)).toString()).toBe('abc');
  });
});
