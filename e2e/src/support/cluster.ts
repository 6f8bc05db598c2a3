/**
 * The devcluster launcher, so e2e tests run the very processes `npm run devcluster`
 * runs, on free ports and quiet logs.
 */
import { startCluster as start, type Cluster, type ClusterOptions } from '@kraken/devcluster';

export type { Cluster };

export function startCluster(options: ClusterOptions & { dir: string }): Promise<Cluster> {
  return start({ ports: 'free', logLevel: 'warn', ...options });
}

/** host:port of a URL, as skopeo's docker:// references want it. */
export function hostOf(url: string): string {
  return new URL(url).host;
}
