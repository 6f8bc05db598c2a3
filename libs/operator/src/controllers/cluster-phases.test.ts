import { describe, expect, it } from 'vitest';
import type { KubeObject, ResourceKind } from '../runtime/resource-kind.js';
import { applyPhase, secretsPhase } from './cluster-phases.js';

const signal = new AbortController().signal;

function secretReader(secrets: Record<string, Record<string, string>>) {
  const reads: string[] = [];
  return {
    reads,
    client: {
      get: async <T extends KubeObject>(_kind: ResourceKind, _ns: string, name: string) => {
        reads.push(name);
        const data = secrets[name];
        return (data === undefined ? undefined : ({ metadata: { name }, data } as unknown)) as T | undefined;
      },
    },
  };
}

describe('secretsPhase', () => {
  it('passes when every Secret key exists, reading each Secret once', async () => {
    const { client, reads } = secretReader({ tls: { 'tls.crt': 'x', 'tls.key': 'y' } });
    const result = await secretsPhase(
      client,
      'ns',
      [
        { name: 'tls', key: 'tls.crt', field: 'spec.tls.secretName' },
        { name: 'tls', key: 'tls.key', field: 'spec.tls.secretName' },
      ],
      signal,
    );
    expect(result).toEqual({ ok: true });
    expect(reads).toEqual(['tls']);
  });
  it('names the field of each missing Secret and key, once each', async () => {
    const { client } = secretReader({ s3: { accessKeyId: 'a' } });
    const result = await secretsPhase(
      client,
      'ns',
      [
        { name: 's3', key: 'secretAccessKey', field: 'spec.storage.credentials.secretAccessKey' },
        { name: 'tls', key: 'tls.crt', field: 'spec.tls.secretName' },
        { name: 'tls', key: 'tls.key', field: 'spec.tls.secretName' },
      ],
      signal,
    );
    expect(result).toEqual({
      degraded: {
        reason: 'SecretMissing',
        message:
          'spec.storage.credentials.secretAccessKey: Secret "s3" has no key "secretAccessKey"; spec.tls.secretName: Secret "tls" not found in ns',
      },
    });
  });
});

describe('applyPhase', () => {
  const object = (name: string) =>
    ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name } }) as KubeObject;
  it('counts the objects actually written', async () => {
    const result = await applyPhase(
      { apply: async (o) => ({ object: o, applied: o.metadata?.name === 'b' }) },
      [object('a'), object('b')],
      signal,
    );
    expect(result).toEqual({ ok: 1 });
  });
  it('stops at the first failure and names the object', async () => {
    const applied: string[] = [];
    const result = await applyPhase(
      {
        apply: async (o) => {
          if (o.metadata?.name === 'b') throw new Error('admission webhook said no');
          applied.push(o.metadata?.name ?? '');
          return { object: o, applied: true };
        },
      },
      [object('a'), object('b'), object('c')],
      signal,
    );
    expect(result).toEqual({
      degraded: { reason: 'ApplyFailed', message: 'ConfigMap/b: admission webhook said no' },
    });
    expect(applied).toEqual(['a']);
  });
});
