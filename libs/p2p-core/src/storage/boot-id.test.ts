import { describe, expect, it } from 'vitest';
import { currentBootId, normalizeBootId } from './boot-id.js';

describe('boot id', () => {
  it('reads the kernel boot id as 32 hex digits, the same on every call', async () => {
    const id = await currentBootId();
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect(await currentBootId()).toBe(id);
  });

  it('normalizes a UUID and refuses anything else', () => {
    expect(normalizeBootId('3F2504E0-4F89-41D3-9A0C-0305E82C3301\n')).toBe(
      '3f2504e04f8941d39a0c0305e82c3301',
    );
    expect(normalizeBootId('')).toBeUndefined();
    expect(normalizeBootId('not-a-uuid')).toBeUndefined();
    expect(normalizeBootId('3f2504e04f8941d39a0c0305e82c33')).toBeUndefined();
  });
});
