import { describe, expect, it } from 'vitest';
import { bitfieldByteLength, bitfieldFromBuffer, createBitfield } from './bitfield.js';
import { InvalidBitfieldError, InvalidPieceIndexError } from '../errors.js';

describe('bitfield', () => {
  it('packs MSB-first and counts set bits', () => {
    const field = createBitfield(10);
    expect(field.set(0)).toBe(true);
    expect(field.set(9)).toBe(true);
    expect(field.set(9)).toBe(false);
    expect(Array.from(field.toBuffer())).toEqual([0b1000_0000, 0b0100_0000]);
    expect(field.count()).toBe(2);
    expect(field.has(0)).toBe(true);
    expect(field.has(1)).toBe(false);
    expect(field.complete()).toBe(false);
  });

  it('iterates missing and present pieces of a size that is not a multiple of 8', () => {
    const field = createBitfield(11);
    for (let i = 0; i < 11; i++) if (i !== 3 && i !== 10) field.set(i);
    expect([...field.missing()]).toEqual([3, 10]);
    expect([...field.present()]).toEqual([0, 1, 2, 4, 5, 6, 7, 8, 9]);
    field.set(3);
    field.set(10);
    expect(field.complete()).toBe(true);
    expect([...field.missing()]).toEqual([]);
    expect(Array.from(field.toBuffer())).toEqual([0xff, 0b1110_0000]);
  });

  it('skips full and empty bytes when scanning a large field', () => {
    const field = createBitfield(2001);
    for (let i = 0; i < 2001; i++) if (i !== 1500) field.set(i);
    expect([...field.missing()]).toEqual([1500]);
    expect([...createBitfield(2001).present()]).toEqual([]);
    expect([...createBitfield(17).missing()]).toHaveLength(17);
  });

  it('treats a zero-piece field as complete', () => {
    const field = createBitfield(0);
    expect(field.complete()).toBe(true);
    expect(field.toBuffer().byteLength).toBe(0);
    expect(bitfieldFromBuffer(0, new Uint8Array(0)).complete()).toBe(true);
  });

  it('round-trips through bytes and copies them', () => {
    const field = createBitfield(20);
    [1, 7, 8, 19].forEach((i) => field.set(i));
    const bytes = field.toBuffer();
    const decoded = bitfieldFromBuffer(20, bytes);
    bytes[0] = 0xff;
    expect([...decoded.present()]).toEqual([1, 7, 8, 19]);
    expect(decoded.count()).toBe(4);
    const clone = decoded.clone();
    clone.set(2);
    expect(decoded.has(2)).toBe(false);
    expect(clone.count()).toBe(5);
  });

  it('rejects a wrong byte length', () => {
    expect(() => bitfieldFromBuffer(9, new Uint8Array(1))).toThrow(InvalidBitfieldError);
    expect(() => bitfieldFromBuffer(8, new Uint8Array(2))).toThrow(InvalidBitfieldError);
    expect(bitfieldByteLength(9)).toBe(2);
  });

  it('rejects spare bits set in the last byte', () => {
    expect(() => bitfieldFromBuffer(9, Uint8Array.of(0, 0b0000_0001))).toThrow(/spare bits/);
    expect(() => bitfieldFromBuffer(15, Uint8Array.of(0xff, 0xff))).toThrow(InvalidBitfieldError);
    expect(bitfieldFromBuffer(15, Uint8Array.of(0xff, 0xfe)).complete()).toBe(true);
    expect(bitfieldFromBuffer(16, Uint8Array.of(0xff, 0xff)).complete()).toBe(true);
  });

  it('rejects out-of-range indexes and bad lengths', () => {
    const field = createBitfield(8);
    expect(() => field.has(8)).toThrow(InvalidPieceIndexError);
    expect(() => field.set(-1)).toThrow(InvalidPieceIndexError);
    expect(() => field.has(1.5)).toThrow(InvalidPieceIndexError);
    expect(() => createBitfield(-1)).toThrow(InvalidBitfieldError);
    expect(() => createBitfield(Number.NaN)).toThrow(InvalidBitfieldError);
  });
});
