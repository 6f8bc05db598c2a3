/**
 * Where each component finds the Secrets its spec refers to. Every Secret a pod needs
 * is mounted whole, read-only, at `/etc/kraken/secrets/<name>/`, so a key is the file
 * `/etc/kraken/secrets/<name>/<key>` and a rotated Secret (cert-manager renewing a
 * certificate) reaches the running components, which reload their files; `subPath`
 * mounts would freeze them. The S3 keys are the exception: the S3 backend reads no
 * credentials file, so they go into the AWS SDK's environment variables.
 *
 * The same walk lists every key as a SecretReference naming the spec field it comes
 * from, for the controller to check before applying anything.
 */
import type { KrakenClusterSpec } from '../api/v1alpha1/kraken-cluster-types.js';
import type { SecretKeyRef } from '../api/v1alpha1/core-types.js';
import type { Component } from './component-names.js';

/** A Secret key the rendered objects use, and the spec field that names it. */
export interface SecretReference {
  readonly name: string;
  readonly key: string;
  readonly field: string;
}

export interface SecretEnvVar {
  readonly name: string;
  readonly secret: SecretKeyRef;
}

/** The Secrets of one component's pods. */
export interface ComponentSecrets {
  readonly refs: readonly SecretReference[];
  /** Names of the Secrets mounted as directories, sorted. */
  readonly mounted: readonly string[];
  readonly env: readonly SecretEnvVar[];
}

export const SECRETS_DIR = '/etc/kraken/secrets';

export function secretFile(ref: { readonly name: string; readonly key: string }): string {
  return `${SECRETS_DIR}/${ref.name}/${ref.key}`;
}

/** The TLS files of a component: its kubernetes.io/tls Secret, and the trust bundle if one is set. */
export interface TlsFiles {
  readonly certFile: string;
  readonly keyFile: string;
  readonly caFile: string;
}

type TlsComponent = 'origins' | 'trackers' | 'buildIndex' | 'proxy' | 'agents';

export const TLS_COMPONENT: Readonly<Record<Component, TlsComponent>> = {
  origin: 'origins',
  tracker: 'trackers',
  'build-index': 'buildIndex',
  proxy: 'proxy',
  agent: 'agents',
};

/** The Secret name serving `component`, and the field it comes from; undefined without TLS. */
export function tlsSecretOf(
  spec: KrakenClusterSpec,
  component: Component,
): { name: string; field: string } | undefined {
  const tls = spec.tls;
  if (tls === undefined) return undefined;
  const key = TLS_COMPONENT[component];
  const own = tls[key];
  if (own !== undefined) return { name: own, field: `spec.tls.${key}` };
  return tls.secretName === undefined ? undefined : { name: tls.secretName, field: 'spec.tls.secretName' };
}

export function tlsFiles(spec: KrakenClusterSpec, component: Component): TlsFiles | undefined {
  const secret = tlsSecretOf(spec, component);
  if (secret === undefined) return undefined;
  const file = (key: string) => secretFile({ name: secret.name, key });
  const bundle = spec.tls?.trustBundle;
  return {
    certFile: file('tls.crt'),
    keyFile: file('tls.key'),
    caFile: bundle === undefined ? file('ca.crt') : secretFile(bundle),
  };
}

/** Every Secret key `component` uses, mounted or in its environment. */
export function componentSecrets(spec: KrakenClusterSpec, component: Component): ComponentSecrets {
  const refs: SecretReference[] = [];
  const env: SecretEnvVar[] = [];
  const file = (ref: SecretKeyRef, field: string) => refs.push({ name: ref.name, key: ref.key, field });

  const tls = tlsSecretOf(spec, component);
  if (tls !== undefined) {
    for (const key of ['tls.crt', 'tls.key']) refs.push({ name: tls.name, key, field: tls.field });
    if (spec.tls?.trustBundle === undefined) refs.push({ name: tls.name, key: 'ca.crt', field: tls.field });
    else file(spec.tls.trustBundle, 'spec.tls.trustBundle');
  }
  const peer = component === 'origin' || component === 'agent';
  if (peer && tls === undefined && spec.p2p.clusterToken !== undefined)
    file(spec.p2p.clusterToken, 'spec.p2p.clusterToken');

  const storage = spec.storage;
  const usesStorage = component === 'origin' || component === 'build-index';
  if (usesStorage && storage.type === 'gcs' && storage.credentials !== undefined)
    file(storage.credentials, 'spec.storage.credentials');
  if (usesStorage && storage.type === 's3' && storage.credentials !== undefined) {
    const { accessKeyId, secretAccessKey, sessionToken } = storage.credentials;
    const add = (name: string, ref: SecretKeyRef, field: string) => {
      env.push({ name, secret: ref });
      refs.push({ name: ref.name, key: ref.key, field: `spec.storage.credentials.${field}` });
    };
    add('AWS_ACCESS_KEY_ID', accessKeyId, 'accessKeyId');
    add('AWS_SECRET_ACCESS_KEY', secretAccessKey, 'secretAccessKey');
    if (sessionToken !== undefined) add('AWS_SESSION_TOKEN', sessionToken, 'sessionToken');
  }
  if (component === 'origin')
    spec.origins.upstreams.forEach((upstream, i) => {
      if (upstream.credentials !== undefined)
        file(upstream.credentials, `spec.origins.upstreams[${i}].credentials`);
    });
  if (component === 'proxy') {
    const { htpasswd, token } = spec.proxy.auth;
    if (htpasswd !== undefined) file(htpasswd.secret, 'spec.proxy.auth.htpasswd.secret');
    if (htpasswd?.groups !== undefined) file(htpasswd.groups, 'spec.proxy.auth.htpasswd.groups');
    if (token?.publicKey !== undefined) file(token.publicKey, 'spec.proxy.auth.token.publicKey');
    const serving = spec.proxy.tls?.secretName;
    if (serving !== undefined)
      for (const key of ['tls.crt', 'tls.key'])
        refs.push({ name: serving, key, field: 'spec.proxy.tls.secretName' });
  }
  const envNames = new Set(env.map((e) => `${e.secret.name}\0${e.secret.key}`));
  const mounted = [
    ...new Set(refs.filter((r) => !envNames.has(`${r.name}\0${r.key}`)).map((r) => r.name)),
  ].sort();
  return { refs: dedupe(refs), mounted, env };
}

/** References sorted by Secret, key and field, each once. */
export function dedupe(refs: readonly SecretReference[]): SecretReference[] {
  const seen = new Map<string, SecretReference>();
  for (const ref of refs) seen.set(`${ref.name}\0${ref.key}\0${ref.field}`, ref);
  return [...seen.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, ref]) => ref);
}
