import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { clientTlsSchema, serverTlsSchema, tlsSchema, tlsShape, tlsWritersSchema } from './tls-config.js';

describe('tls config', () => {
  it('is off when absent', () => {
    expect(tlsSchema.parse(undefined)).toEqual({});
  });

  it('needs a client CA whenever client certificates are asked for', () => {
    const result = serverTlsSchema.safeParse({ certFile: 'a.crt', keyFile: 'a.key', clientAuth: 'require' });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]).toMatchObject({ path: ['clientCaFile'] });
    expect(
      serverTlsSchema.parse({
        certFile: 'a.crt',
        keyFile: 'a.key',
        clientCaFile: 'ca.crt',
        clientAuth: 'optional',
      }),
    ).toEqual({
      certFile: 'a.crt',
      keyFile: 'a.key',
      clientCaFile: 'ca.crt',
      clientAuth: 'optional',
      reloadIntervalMs: 30_000,
    });
  });

  it('takes a client certificate only with its key', () => {
    expect(clientTlsSchema.safeParse({ certFile: 'c.crt' }).success).toBe(false);
    expect(clientTlsSchema.safeParse({ keyFile: 'c.key' }).success).toBe(false);
    expect(clientTlsSchema.parse({ caFile: 'ca.crt' })).toEqual({
      caFile: 'ca.crt',
      reloadIntervalMs: 30_000,
    });
  });

  it('gives writers their component defaults', () => {
    const schema = z.object({ ...tlsShape, writers: tlsWritersSchema(['proxy']) }).strict();
    expect(schema.parse({})).toEqual({ writers: ['proxy'] });
    expect(schema.safeParse({ server: { certFile: 'a.crt' } }).success).toBe(false);
  });
});
