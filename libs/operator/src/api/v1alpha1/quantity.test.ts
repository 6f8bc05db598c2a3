import { describe, expect, it } from 'vitest';
import { QUANTITY_PATTERN, quantityBytes, quantitySchema, quantityValue } from './quantity.js';

describe('quantities', () => {
  it('reads binary, decimal and exponent suffixes', () => {
    expect(quantityBytes('512Mi')).toBe(512 * 2 ** 20);
    expect(quantityBytes('1.5Gi')).toBe(1.5 * 2 ** 30);
    expect(quantityBytes('10G')).toBe(10e9);
    expect(quantityBytes('1e3')).toBe(1000);
    expect(quantityBytes(4096)).toBe(4096);
    expect(quantityValue('250m')).toBeCloseTo(0.25);
    expect(quantityBytes('0.5')).toBe(1);
  });

  it('refuses what the API server refuses', () => {
    for (const bad of ['10 GB', '10GB', '-1Gi', 'Gi', '', '1.2.3', '10gi']) {
      expect(quantityValue(bad), bad).toBeUndefined();
      expect(quantitySchema().safeParse(bad).success, bad).toBe(false);
    }
    expect(quantitySchema().safeParse(-1).success).toBe(false);
    expect(() => quantityBytes('10 GB')).toThrow(RangeError);
  });

  it('keeps a pattern Go regexp reads the same way (no look-arounds, no backreferences)', () => {
    expect(QUANTITY_PATTERN).not.toMatch(/\(\?[=!<]|\\[1-9]/);
  });
});
