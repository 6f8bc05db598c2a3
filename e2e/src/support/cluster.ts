/**
 * Typed access to the devcluster launcher (tools/devcluster/cluster.mjs), so e2e tests
 * run the very processes `npm run devcluster` runs, on free ports.
 */
import { startCluster as startClusterJs } from '../../../tools/devcluster/cluster.mjs';

export interface Component {
  readonly name: string;
  readonly app: string;
  readonly url: string;
  readonly logFile: string;
  stop(signal?: NodeJS.Signals): Promise<unknown>;
}

export interface Cluster {
  readonly dir: string;
  readonly endpoints: { proxy: string[]; origin: string[]; 'build-index': string[]; agent: string[] };
  readonly components: Component[];
  stop(): Promise<void>;
}

export interface ClusterOptions {
  dir: string;
  agents?: number;
  logLevel?: string;
}

export function startCluster(options: ClusterOptions): Promise<Cluster> {
  return startClusterJs({ ports: 'free', logLevel: 'warn', ...options }) as Promise<Cluster>;
}

/** host:port of a URL, as skopeo's docker:// references want it. */
export function hostOf(url: string): string {
  return new URL(url).host;
}
