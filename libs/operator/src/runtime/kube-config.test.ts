import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KubeConfigUnavailableError } from '../errors.js';
import { loadKubeConfig } from './kube-config.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kraken-kubeconfig-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function kubeconfig(
  file: string,
  server: string,
  options: { current?: string; namespace?: string; name?: string } = {},
) {
  const name = options.name ?? 'c';
  writeFileSync(
    file,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name, cluster: { server } }],
      users: [{ name, user: { token: 't' } }],
      contexts: [{ name, context: { cluster: name, user: name, namespace: options.namespace } }],
      ...(options.current === '' ? {} : { 'current-context': options.current ?? name }),
    }),
  );
  return file;
}

function serviceAccount(): string {
  const sa = join(dir, 'sa');
  mkdirSync(sa);
  writeFileSync(join(sa, 'token'), 'sa-token');
  writeFileSync(join(sa, 'ca.crt'), 'ca');
  writeFileSync(join(sa, 'namespace'), 'kraken-system\n');
  return sa;
}

const inPod = { KUBERNETES_SERVICE_HOST: '10.0.0.1', KUBERNETES_SERVICE_PORT: '443' };

function failure(fn: () => unknown): KubeConfigUnavailableError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(KubeConfigUnavailableError);
    return err as KubeConfigUnavailableError;
  }
  throw new Error('expected KubeConfigUnavailableError');
}

describe('kubeconfig sources', () => {
  it('uses the service account in a pod', () => {
    const loaded = loadKubeConfig({ env: inPod, serviceAccountDir: serviceAccount() });
    expect(loaded.source).toBe('in-cluster');
    expect(loaded.namespace).toBe('kraken-system');
    expect(loaded.kubeConfig.getCurrentCluster()?.server).toBe('https://10.0.0.1:443');
    expect(loaded.kubeConfig.getCurrentUser()?.authProvider?.config?.tokenFile).toBe(
      join(dir, 'sa', 'token'),
    );
    const v6 = loadKubeConfig({
      env: { ...inPod, KUBERNETES_SERVICE_HOST: 'fd00::1' },
      serviceAccountDir: join(dir, 'sa'),
    });
    expect(v6.kubeConfig.getCurrentCluster()?.server).toBe('https://[fd00::1]:443');
  });

  it('prefers a kubeconfig it was given over the service account and the environment', () => {
    const file = kubeconfig(join(dir, 'given'), 'https://given:6443', { namespace: 'ops' });
    kubeconfig(join(dir, 'env'), 'https://env:6443');
    const loaded = loadKubeConfig({
      kubeconfigPath: file,
      env: { ...inPod, KUBECONFIG: join(dir, 'env') },
      serviceAccountDir: serviceAccount(),
    });
    expect(loaded.kubeConfig.getCurrentCluster()?.server).toBe('https://given:6443');
    expect(loaded.namespace).toBe('ops');
  });

  it('merges the KUBECONFIG list as kubectl does: first one wins, missing files skipped', () => {
    const a = kubeconfig(join(dir, 'a'), 'https://a:6443', { name: 'shared', current: '' });
    const b = kubeconfig(join(dir, 'b'), 'https://b:6443', { name: 'shared' });
    const loaded = loadKubeConfig({ env: { KUBECONFIG: [join(dir, 'missing'), a, b].join(delimiter) } });
    // b names the current context; a's definition of `shared` wins.
    expect(loaded.kubeConfig.getCurrentContext()).toBe('shared');
    expect(loaded.kubeConfig.getCurrentCluster()?.server).toBe('https://a:6443');
  });

  it('falls back to ~/.kube/config', () => {
    mkdirSync(join(dir, '.kube'));
    kubeconfig(join(dir, '.kube', 'config'), 'https://home:6443');
    const loaded = loadKubeConfig({ env: { HOME: dir } });
    expect(loaded.source).toBe(join(dir, '.kube', 'config'));
    expect(loaded.kubeConfig.getCurrentCluster()?.server).toBe('https://home:6443');
  });

  it('fails with what it tried, never with a default server', () => {
    const err = failure(() => loadKubeConfig({ env: { HOME: dir }, serviceAccountDir: join(dir, 'none') }));
    expect(err.code).toBe('KRAKEN_KUBECONFIG_UNAVAILABLE');
    expect(err.tried).toEqual([
      'service account (KUBERNETES_SERVICE_HOST unset)',
      'KUBECONFIG unset',
      `${join(dir, '.kube', 'config')} absent`,
    ]);
    expect(failure(() => loadKubeConfig({ kubeconfigPath: join(dir, 'nope') })).message).toContain('absent');
    const noContext = kubeconfig(join(dir, 'nocontext'), 'https://x:6443', { current: '' });
    expect(failure(() => loadKubeConfig({ kubeconfigPath: noContext })).message).toContain(
      'names no current cluster',
    );
    writeFileSync(join(dir, 'garbage'), '{{{ not yaml');
    expect(failure(() => loadKubeConfig({ kubeconfigPath: join(dir, 'garbage') })).message).toContain(
      'unreadable',
    );
  });
});
