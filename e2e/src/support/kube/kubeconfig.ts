/**
 * Kubeconfig files for the test cluster, written as JSON (which every client reads like YAML)
 * with the CA and credentials embedded: a file is self-contained, so it can be handed to
 * another process, as the operator gets its service account's.
 */
import { readFile, writeFile } from 'node:fs/promises';
import type { KeyPair } from './pki.js';

export type KubeCredentials =
  | { readonly kind: 'certificate'; readonly pair: KeyPair }
  | { readonly kind: 'token'; readonly token: string };

export interface KubeconfigOptions {
  readonly path: string;
  /** `https://127.0.0.1:<port>` */
  readonly server: string;
  /** PEM file of the CA that signed the apiserver's certificate. */
  readonly caFile: string;
  /** Names the user entry (shown by `kubectl config view`); any label will do. */
  readonly user: string;
  readonly credentials: KubeCredentials;
  /** Namespace of the context: kubectl's default for namespaced commands. */
  readonly namespace?: string;
}

/** Writes the kubeconfig (mode 0600: it holds a key or a token) and returns its path. */
export async function writeKubeconfig(options: KubeconfigOptions): Promise<string> {
  const base64 = async (file: string) => (await readFile(file)).toString('base64');
  const { credentials } = options;
  const user =
    credentials.kind === 'token'
      ? { token: credentials.token }
      : {
          'client-certificate-data': await base64(credentials.pair.cert),
          'client-key-data': await base64(credentials.pair.key),
        };
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: 'e2e',
        cluster: { server: options.server, 'certificate-authority-data': await base64(options.caFile) },
      },
    ],
    users: [{ name: options.user, user }],
    contexts: [
      {
        name: 'e2e',
        context: {
          cluster: 'e2e',
          user: options.user,
          ...(options.namespace === undefined ? {} : { namespace: options.namespace }),
        },
      },
    ],
    'current-context': 'e2e',
    preferences: {},
  };
  await writeFile(options.path, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  return options.path;
}
