/**
 * Where the operator's Kubernetes credentials come from. The sources, in order:
 * 1. the kubeconfig file the operator was given (a flag wins over the environment);
 * 2. the pod's service account, when running in a pod;
 * 3. the `KUBECONFIG` list, merged the way kubectl merges it (the first file to
 *    name a cluster, user, context or current context wins);
 * 4. `~/.kube/config`.
 * The first source that applies must work: an unreadable file or one that names no
 * current cluster is an error, never a silent fall-through to a default server.
 */
import { existsSync, readFileSync } from 'node:fs';
import { isIPv6 } from 'node:net';
import { delimiter, join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { KubeConfigUnavailableError } from '../errors.js';

export const serviceAccountDir = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface KubeConfigOptions {
  /** An explicit kubeconfig file (the operator's `--kubeconfig`). */
  readonly kubeconfigPath?: string;
  /** The process environment; the app passes `process.env` (libs never read it themselves). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Where a pod's service account is mounted. */
  readonly serviceAccountDir?: string;
  /** The user's home directory, for `~/.kube/config`; defaults to `env.HOME`. */
  readonly homeDir?: string;
}

export interface LoadedKubeConfig {
  readonly kubeConfig: KubeConfig;
  /** Which source was used: `in-cluster`, or the kubeconfig file(s). */
  readonly source: string;
  /** The namespace of the current context (the pod's namespace in a cluster), if any. */
  readonly namespace: string | undefined;
}

export function loadKubeConfig(options: KubeConfigOptions = {}): LoadedKubeConfig {
  const env = options.env ?? {};
  const tried: string[] = [];

  if (options.kubeconfigPath !== undefined) {
    return fromFiles([options.kubeconfigPath], `kubeconfig ${options.kubeconfigPath}`, tried);
  }

  const saDir = options.serviceAccountDir ?? serviceAccountDir;
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (host && port && existsSync(join(saDir, 'token'))) return inCluster(host, port, saDir);
  tried.push(`service account (${host && port ? `no token in ${saDir}` : 'KUBERNETES_SERVICE_HOST unset'})`);

  const list = (env.KUBECONFIG ?? '').split(delimiter).filter(Boolean);
  if (list.length > 0) return fromFiles(list, `KUBECONFIG=${env.KUBECONFIG}`, tried);
  tried.push('KUBECONFIG unset');

  const home = options.homeDir ?? env.HOME;
  if (home !== undefined && home !== '') {
    const file = join(home, '.kube', 'config');
    if (existsSync(file)) return fromFiles([file], file, tried);
    tried.push(`${file} absent`);
  } else {
    tried.push('no home directory for ~/.kube/config');
  }
  throw new KubeConfigUnavailableError(tried);
}

function inCluster(host: string, port: string, saDir: string): LoadedKubeConfig {
  const namespaceFile = join(saDir, 'namespace');
  const namespace = existsSync(namespaceFile) ? readFileSync(namespaceFile, 'utf8').trim() : undefined;
  const server = `https://${isIPv6(host) ? `[${host}]` : host}:${port}`;
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: 'in-cluster', server, caFile: join(saDir, 'ca.crt'), skipTLSVerify: false }],
    // The token file is re-read as the kubelet rotates it (the library's tokenFile provider).
    users: [
      {
        name: 'in-cluster',
        authProvider: { name: 'tokenFile', config: { tokenFile: join(saDir, 'token') } },
      },
    ],
    contexts: [{ name: 'in-cluster', cluster: 'in-cluster', user: 'in-cluster', namespace }],
    currentContext: 'in-cluster',
  });
  return { kubeConfig, source: 'in-cluster', namespace };
}

function fromFiles(files: readonly string[], source: string, tried: string[]): LoadedKubeConfig {
  const merged = new KubeConfig();
  merged.loadFromOptions({ clusters: [], users: [], contexts: [], currentContext: '' });
  let loaded = 0;
  for (const file of files) {
    if (!existsSync(file)) continue;
    const one = new KubeConfig();
    try {
      one.loadFromFile(file);
    } catch (err) {
      throw new KubeConfigUnavailableError([...tried, `${file} unreadable`], err);
    }
    loaded++;
    const known = (list: readonly { name: string }[], name: string) => list.some((x) => x.name === name);
    for (const c of one.clusters ?? []) if (!known(merged.clusters, c.name)) merged.addCluster(c);
    for (const u of one.users ?? []) if (!known(merged.users, u.name)) merged.addUser(u);
    for (const c of one.contexts ?? []) if (!known(merged.contexts, c.name)) merged.addContext(c);
    if (!merged.currentContext && one.currentContext) merged.setCurrentContext(one.currentContext);
  }
  if (loaded === 0) throw new KubeConfigUnavailableError([...tried, `${files.join(', ')} absent`]);
  const cluster = merged.getCurrentCluster();
  if (cluster === null || !cluster.server) {
    throw new KubeConfigUnavailableError([...tried, `${source} names no current cluster`]);
  }
  const context = merged.getContextObject(merged.getCurrentContext());
  return { kubeConfig: merged, source, namespace: context?.namespace };
}
