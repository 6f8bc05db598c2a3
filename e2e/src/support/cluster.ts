/**
 * The devcluster launcher, so e2e tests run the very processes `npm run devcluster`
 * runs, on free ports and quiet logs.
 */
import {
  startCluster as start,
  startClusters as startMany,
  type Cluster,
  type ClusterOptions,
  type Clusters,
  type ClustersOptions,
} from '@kraken/devcluster';

export type { Cluster, Clusters };

export function startCluster(options: ClusterOptions & { dir: string }): Promise<Cluster> {
  return start({ ports: 'free', logLevel: 'warn', ...options });
}

/**
 * Clusters side by side (each under `<dir>/<id>`), wired by replication rules whose
 * destination may name another cluster: `{ cluster: 'b' }`.
 */
export function startClusters(options: ClustersOptions & { dir: string }): Promise<Clusters> {
  return startMany({ ports: 'free', logLevel: 'warn', ...options });
}

/** host:port of a URL, as skopeo's docker:// references want it. */
export function hostOf(url: string): string {
  return new URL(url).host;
}
