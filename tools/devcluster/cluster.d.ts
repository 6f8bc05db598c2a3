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
  /** With `secure`: the push user. */
  auth?: { username: string; password: string };
  /** With `secure`: the cluster CA certificate (PEM file). */
  ca?: string;
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
  /** The cluster id it was started with (ClusterOptions.id). */
  readonly id: string | undefined;
  readonly dir: string;
  readonly endpoints: Endpoints;
  readonly components: Component[];
  /**
   * The running component of that name (e.g. "agent-0", "origin-0", "build-index-1").
   * `component(name)!.stop('SIGKILL')` kills one; `restart(name)` brings it back.
   */
  component(name: string): Component | undefined;
  /** Stops the component if it runs, starts it again with the same config and ports, waits until ready. */
  restart(name: string): Promise<Component>;
  stop(): Promise<void>;
  /** Present when the cluster was started with storage 's3'. */
  readonly minio: Minio | undefined;
  /** Present when the cluster was started with `secure`: the push user, the CA, skopeo's cert dir. */
  readonly secure?: {
    readonly user: { readonly username: string; readonly password: string };
    readonly caFile: string;
    readonly certDir: string;
  };
}

/**
 * One rule of the build-index's `replication.rules` (its config contract): tags of matching
 * repositories are copied, with their content, to the destination cluster.
 */
export interface ReplicationRule {
  name: string;
  /** Anchored regex over repository names. */
  repositories: string;
  /** Anchored regex over tags (default: every tag). */
  tags?: string;
  /** The remote cluster's build-index URL. */
  destination: { discover: string };
  deletes?: boolean;
  enabled?: boolean;
  bandwidthBytesPerSecond?: number;
  concurrency?: number;
  backfillIntervalSeconds?: number;
  retry?: object;
}

export interface ClusterOptions {
  /** State, configs and logs go here (default: <repo>/.devcluster). */
  dir?: string;
  /**
   * The cluster id: `p2p.clusterId` of its origins and agents (peers of other clusters are
   * refused) and `replication.clusterId` of its build-index nodes. Default: none, so the
   * apps' default P2P id ('devcluster') applies.
   */
  id?: string;
  /** 'default' uses the documented ports (plus portOffset); 'free' picks free loopback ports. */
  ports?: 'default' | 'free';
  /** Added to every default port with ports 'default' (cluster b: 100); ignored with 'free'. */
  portOffset?: number;
  /**
   * Cross-cluster replication: becomes `replication: { clusterId, rules }` in every
   * build-index config (each node's queue is `<dir>/build-index-<n>-replication.db`, with or
   * without this option). clusterId defaults to `id`. To wire two clusters to each other on free ports, see startClusters.
   */
  replication?: { clusterId?: string; rules?: ReplicationRule[] };
  agents?: number;
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
  /**
   * Upstream registries to mirror: the origins' `upstreams` (pull-through), and the agents'
   * `mirror.upstreams` by name, so containerd's `?ns=<name>` requests are answered.
   */
  upstreams?: {
    name: string;
    url: string;
    credentialsFile?: string;
    tagCacheSeconds?: number;
    staleIfErrorSeconds?: number;
    resilience?: object;
  }[];
  /**
   * TLS on every link between components with a throwaway CA (openssl), mutual TLS on P2P,
   * pushes authenticated with a generated user. The agents' registries stay plain HTTP.
   */
  secure?: boolean;
  overrides?: { origin?: object; tracker?: object; buildIndex?: object; proxy?: object; agent?: object };
}

/**
 * A rule of startClusters: its destination is a build-index URL, or the id of another
 * cluster started in the same call (replaced by the URL of that cluster's first build-index).
 */
export interface ClusterReplicationRule extends Omit<ReplicationRule, 'destination'> {
  destination: { discover: string } | { cluster: string };
}

/** One cluster of startClusters: its own options over the shared ones, and its rules. */
export interface ClusterSpec extends Omit<ClusterOptions, 'id' | 'replication'> {
  /** Cluster id (see ClusterOptions.id); also its directory under ClustersOptions.dir. */
  id: string;
  /** Default: <ClustersOptions.dir>/<id>. */
  dir?: string;
  /** Default: its index × 100 (a: 0, b: 100), with ports 'default'. */
  portOffset?: number;
  /**
   * Its build-index replication rules; `{ cluster: 'b' }` destinations are resolved to the
   * other cluster's first build-index. Without rules its build-index gets no replication block.
   */
  rules?: ClusterReplicationRule[];
}

/** Options of every cluster (each ClusterSpec may override them), and the clusters. */
export interface ClustersOptions extends Omit<ClusterOptions, 'id' | 'portOffset' | 'replication'> {
  /** Each cluster under <dir>/<id>; the combined endpoints.json goes here (default: <repo>/.devcluster). */
  dir?: string;
  clusters: ClusterSpec[];
}

export interface Clusters {
  readonly dir: string;
  /** The first cluster's endpoints at the top level, and every cluster's by id. */
  readonly endpoints: Endpoints & { clusters: Record<string, Endpoints> };
  readonly clusters: Readonly<Record<string, Cluster>>;
  /** The cluster of that id; throws when there is none. */
  cluster(id: string): Cluster;
  /** Stops every cluster. */
  stop(): Promise<void>;
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
/** Cluster n (0 = a) takes every default port plus n × CLUSTER_PORT_STRIDE (100). */
export const CLUSTER_PORT_STRIDE: number;
/** A free loopback port below the ephemeral range, never handed out twice by this process. */
export function freePort(host?: string): Promise<number>;
/** Starts one cluster (ports 'free' unless told otherwise) and waits until every component is ready. */
export function startCluster(options?: ClusterOptions): Promise<Cluster>;
/**
 * Starts clusters side by side, each with its own id, directory and ports, wired by
 * replication rules. Every port is planned before any cluster starts (free ports are never
 * handed out twice in one process), so the rules can name each other's build-index:
 *
 *   const both = await startClusters({ dir, ports: 'free', clusters: [
 *     { id: 'a', rules: [{ name: 'to-b', repositories: '.*', destination: { cluster: 'b' } }] },
 *     { id: 'b', rules: [{ name: 'to-a', repositories: 'shared/.*', destination: { cluster: 'a' } }] },
 *   ] });
 *   await both.cluster('b').component('build-index-0')!.stop('SIGKILL');
 *   await both.cluster('b').restart('build-index-0');
 *
 * Writes `<dir>/endpoints.json` with the first cluster's endpoints and `clusters: { <id>: ... }`.
 * If one cluster fails to start, the others are stopped and the error is thrown.
 */
export function startClusters(options: ClustersOptions): Promise<Clusters>;
