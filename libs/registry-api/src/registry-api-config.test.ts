import { describe, expect, it } from 'vitest';
import { MAX_MANIFEST_BYTES } from '@kraken/oci-content';
import { registryApiConfigSchema } from './registry-api-config.js';

describe('registry API config', () => {
  it('has working defaults', () => {
    const config = registryApiConfigSchema.parse(undefined);
    expect(config.limits.maxManifestBytes).toBe(MAX_MANIFEST_BYTES);
    expect(config.uploads).toMatchObject({ ttlSeconds: 3600, sweepIntervalSeconds: 60, maxSessions: 1000 });
    expect(config.uploads.dir.length).toBeGreaterThan(0);
  });

  it('rejects unknown keys and bad values, naming the field', () => {
    expect(() => registryApiConfigSchema.parse({ uploads: { dirr: '/x' } })).toThrow(/dirr/);
    const result = registryApiConfigSchema.safeParse({ limits: { maxUploadBytes: -1 } });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(['limits', 'maxUploadBytes']);
  });
});
