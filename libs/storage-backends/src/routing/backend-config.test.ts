import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { storageBackendSchema } from './backend-config.js';
import { createBackend } from './create-backend.js';

describe('storage backend config', () => {
  const schema = storageBackendSchema({ defaultRoot: './.devcluster/x' });

  it('defaults to the filesystem backend at the given root', () => {
    expect(schema.parse(undefined)).toEqual({ type: 'filesystem', root: './.devcluster/x' });
    expect(schema.parse({ type: 'filesystem' })).toEqual({ type: 'filesystem', root: './.devcluster/x' });
    expect(schema.parse({ type: 'filesystem', root: '/data' })).toEqual({
      type: 'filesystem',
      root: '/data',
    });
  });

  it('rejects unknown types and unknown keys', () => {
    expect(schema.safeParse({ type: 's4', root: '/x' }).success).toBe(false);
    const extra = schema.safeParse({ type: 'filesystem', root: '/x', bucket: 'b' });
    expect(extra.success).toBe(false);
    expect(JSON.stringify(extra.error?.issues)).toContain('bucket');
    expect(schema.safeParse({ type: 'filesystem', root: '' }).success).toBe(false);
  });

  it('builds the backend the config selects', async () => {
    const root = await mkdtemp(join(tmpdir(), 'kraken-backend-config-'));
    try {
      const backend = createBackend(schema.parse({ type: 'filesystem', root }));
      expect(backend.name).toBe(`fs:${root}`);
      await backend.check();
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
