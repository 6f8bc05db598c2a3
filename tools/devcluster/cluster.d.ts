/** Types of cluster.mjs: a local cluster of real component processes. */
export interface Component {
  readonly name: string;
  readonly app: string;
  readonly url: string;
  readonly logFile: string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<unknown>;
}

export interface Endpoints {
  proxy: string[];
  origin: string[];
  tracker: string[];
  'build-index': string[];
  agent: string[];
  'origin-p2p': string[];
  'agent-p2p': string[];
  /** With storage 's3': the MinIO endpoint. */
  minio?: string[];
}

/** The MinIO process of a cluster with storage 's3'. */
export interface Minio {
  readonly url: string;
  readonly logFile: string;
  /** Stops MinIO (its data stays), like a backend outage. */
  stop(signal?: NodeJS.Signals): Promise<unknown>;
  /** Starts it again on the same port and data; resolves once it serves. */
  start(): Promise<void>;
}

export interface Cluster {
  readonly dir: string;
  readonly endpoints: Endpoints;
  readonly components: Component[];
  /** The running component of that name (e.g. "agent-0", "origin-0"). */
  component(name: string): Component | undefined;
  /** Stops the component if it runs, starts it again with the same config, waits until ready. */
  restart(name: string): Promise<Component>;
  stop(): Promise<void>;
  /** Present when the cluster was started with storage 's3'. */
  readonly minio: Minio | undefined;
}

export interface ClusterOptions {
  /** State, configs and logs go here (default: <repo>/.devcluster). */
  dir?: string;
  /** 'default' uses the documented ports; 'free' picks free loopback ports. */
  ports?: 'default' | 'free';
  agents?: number;
  /** Where origins and the build-index keep objects: local directories (default) or a MinIO it starts. */
  storage?: 'filesystem' | 's3';
  /** Where origins and the build-index keep objects: local directories (default) or a MinIO it starts. */
  storage?: 'filesystem' | 's3';
  /** Origins in the ring (default 1); the first takes the documented ports, the rest the next free ones. */
  origins?: number;
  /** Owners of each blob on the origin ring (default: 2, or fewer when there are fewer origins). */
  replicas?: number;
  /** Trackers in the ring (default 1); the first takes the documented port, the rest the next free ones. */
  trackers?: number;
  /** Build-index nodes, each replicating to the others (default 1); ports as for trackers. */
  buildIndexes?: number;
  logLevel?: string;
  /** Extra config keys per component kind, deep-merged over the generated config. */
  overrides?: { origin?: object; tracker?: object; buildIndex?: object; proxy?: object; agent?: object };
}

export const repoRoot: string;
export const DEFAULT_PORTS: {
  proxy: number;
  origin: number;
  tracker: number;
  buildIndex: number;
  agents: number[];
  originP2p: number;
  agentsP2p: number[];
};
export function freePort(host?: string): Promise<number>;
export function startCluster(options?: ClusterOptions): Promise<Cluster>;
