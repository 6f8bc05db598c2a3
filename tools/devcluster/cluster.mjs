// Starts a local cluster of real component processes (origin, tracker, build-index,
// proxy, agents) from the built apps, on fixed default ports or on free ones, with all
// state under one directory; or several such clusters side by side, wired to each other
// by build-index replication rules. Used by `npm run devcluster`, the e2e tests and benchmarks.
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { minioStorageConfig, startMinio } from './minio.mjs';
import { CLUSTER_PORT_STRIDE, freePort, planPorts } from './ports.mjs';
import { startComponent, waitReady } from './processes.mjs';
import { secureClusterConfig } from './secure-config.mjs';

export { CLUSTER_PORT_STRIDE, DEFAULT_PORTS, freePort } from './ports.mjs';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/** What the P2P handshake accepts as a cluster id; ids also name directories here. */
const CLUSTER_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

/** Overrides merge into the generated config key by key; arrays and scalars replace. */
function deepMerge(base, override) {
  if (override === undefined) return base;
  const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
  const out = { ...base };
  for (const [key, value] of Object.entries(override)) {
    out[key] = isObject(value) && isObject(base[key]) ? deepMerge(base[key], value) : value;
  }
  return out;
}

const countsOf = (options) => ({
  agents: options.agents ?? 2,
  origins: options.origins ?? 1,
  trackers: options.trackers ?? 1,
  buildIndexes: options.buildIndexes ?? 1,
});

/**
 * Starts one cluster and waits until every component is ready. Options and result are
 * described in cluster.d.ts (ClusterOptions, Cluster).
 */
export async function startCluster(options = {}) {
  const ports = await planPorts(options.ports ?? 'free', countsOf(options), options.portOffset ?? 0);
  return launchCluster(options, ports);
}

async function launchCluster(options, ports) {
  const dir = resolve(options.dir ?? join(repoRoot, '.devcluster'));
  const { id } = options;
  if (id !== undefined && !CLUSTER_ID.test(id)) {
    throw new Error(
      `cluster id must be 1-63 characters of [A-Za-z0-9._-], starting alphanumeric, got "${id}"`,
    );
  }
  const replication = replicationOf(options);
  const originCount = ports.origins.length;
  // Every component finds the origins through the same ring: same members, same replicas.
  const originRing = {
    nodes: ports.origins.map((port) => `127.0.0.1:${port}`),
    replicas: options.replicas ?? Math.min(originCount, 2),
  };
  const logLevel = options.logLevel ?? 'info';
  const host = '127.0.0.1';
  // --secure: TLS on every link between components (the agents' registries stay plain
  // HTTP on loopback, for the node's clients), mutual TLS on P2P, authenticated pushes.
  const secure = options.secure ? await secureClusterConfig(dir) : undefined;
  const scheme = secure === undefined ? 'http' : 'https';
  const url = (port) => `${scheme}://${host}:${port}`;
  const agentUrl = (port) => `http://${host}:${port}`;
  if (secure !== undefined) originRing.scheme = scheme;
  // Every agent and origin computes the same tracker ring; every client lists every build-index.
  const trackerRing = { nodes: ports.trackers.map((port) => `${host}:${port}`), scheme };
  const buildIndexNodes = { nodes: ports.buildIndexes.map((port) => `${host}:${port}`), scheme };
  await mkdir(join(dir, 'config'), { recursive: true });
  await mkdir(join(dir, 'logs'), { recursive: true });

  const o = options.overrides ?? {};
  const specs = [
    ...ports.origins.map((port, i) => ({
      name: `origin-${i}`,
      app: 'origin',
      port,
      config: {
        listen: { host, port },
        storage: { type: 'filesystem', root: join(dir, `origin-${i}`, 'store') },
        uploads: { dir: join(dir, `origin-${i}`, 'uploads') },
        p2p: {
          listen: { host, port: ports.originsP2p[i] },
          advertiseHost: host,
          // Without an id the apps' default ('devcluster') stays, as before clusters had ids.
          ...(id === undefined ? {} : { clusterId: id }),
          dir: join(dir, `origin-${i}`, 'p2p'),
        },
        origins: originRing,
        replication: { self: `${host}:${port}` },
        trackers: trackerRing,
        logging: { level: logLevel },
      },
    })),
    ...ports.trackers.map((port, i) => ({
      name: `tracker-${i}`,
      app: 'tracker',
      port,
      config: {
        listen: { host, port },
        origins: originRing,
        logging: { level: logLevel },
      },
    })),
    ...ports.buildIndexes.map((port, i) => ({
      name: `build-index-${i}`,
      app: 'build-index',
      port,
      config: {
        listen: { host, port },
        storage: { type: 'filesystem', root: join(dir, `build-index-${i}`) },
        origins: originRing,
        // Each node replicates tag writes to the others and sweeps them for what it missed.
        cluster: { peers: ports.buildIndexes.filter((p) => p !== port).map(url) },
        // Every node has its own replication queue file, beside (not inside) its storage
        // root, rules or not: rules can be created at runtime.
        replication: {
          dbPath: join(dir, `build-index-${i}-replication.db`),
          ...(replication === undefined
            ? {}
            : { clusterId: replication.clusterId, rules: replication.rules }),
        },
        logging: { level: logLevel },
      },
    })),
    {
      name: 'proxy-0',
      app: 'proxy',
      port: ports.proxy,
      config: {
        listen: { host, port: ports.proxy },
        registry: { uploads: { dir: join(dir, 'proxy-0', 'uploads') } },
        cache: { blobDir: join(dir, 'proxy-0', 'blob-cache') },
        origins: originRing,
        buildIndex: buildIndexNodes,
        logging: { level: logLevel },
      },
    },
    ...ports.agents.map((port, i) => ({
      name: `agent-${i}`,
      app: 'agent',
      port,
      config: {
        listen: { host, port },
        cache: { dir: join(dir, `agent-${i}`, 'cache') },
        origins: originRing,
        buildIndex: buildIndexNodes,
        trackers: trackerRing,
        p2p: {
          listen: { host, port: ports.agentsP2p[i] },
          advertiseHost: host,
          ...(id === undefined ? {} : { clusterId: id }),
          dir: join(dir, `agent-${i}`, 'p2p'),
        },
        logging: { level: logLevel },
      },
    })),
  ];

  // Storage: every origin keeps its cache and write-back queue under its own directory.
  // With storage 's3', MinIO holds the objects: one prefix shared by the origins (they
  // write back to one backend), and one per build-index node (each keeps its own state,
  // as with directories).
  const minio =
    options.storage === 's3'
      ? await startMinio({
          repoRoot,
          dir: join(dir, 'minio'),
          port: await freePort(),
          logFile: join(dir, 'logs', 'minio.log'),
        })
      : undefined;
  // Mirrored upstream registries: the origins pull through them, the agents answer `?ns=`.
  const upstreams = options.upstreams ?? [];
  // Images pushed through the proxy are named after it; containerd asks the agents for
  // them with `?ns=<proxy host>`.
  for (const spec of specs) {
    if (upstreams.length > 0 && spec.app === 'origin') spec.config.upstreams = upstreams;
    if (spec.app === 'agent')
      spec.config.mirror = {
        pushRegistries: [`${host}:${ports.proxy}`],
        ...(upstreams.length > 0 ? { upstreams: upstreams.map(({ name }) => ({ name })) } : {}),
      };
    if (spec.app === 'origin') {
      spec.config.cache = { dir: join(dir, spec.name, 'cache') };
      spec.config.writeBack = { dbPath: join(dir, spec.name, 'write-back.db') };
      if (minio !== undefined) spec.config.storage = minioStorageConfig(minio.url, 'origin');
    }
    if (spec.app === 'build-index' && minio !== undefined)
      spec.config.storage = minioStorageConfig(minio.url, spec.name);
  }

  if (secure !== undefined) for (const spec of specs) secure.apply(spec);

  const overrideOf = {
    origin: o.origin,
    tracker: o.tracker,
    'build-index': o.buildIndex,
    proxy: o.proxy,
    agent: o.agent,
  };
  for (const spec of specs) spec.config = deepMerge(spec.config, overrideOf[spec.app]);

  const components = [];
  const launch = (spec, configFile) =>
    startComponent({
      name: spec.name,
      app: spec.app,
      configFile,
      url: spec.app === 'agent' ? agentUrl(spec.port) : url(spec.port),
      logFile: join(dir, 'logs', `${spec.name}.log`),
      cwd: repoRoot,
      ...(secure === undefined ? {} : { dispatcher: secure.dispatcher }),
    });
  /** Starts a stopped (or killed) component again with its config and waits until it is ready. */
  const restart = async (name) => {
    const index = components.findIndex((c) => c.name === name);
    const spec = specs.find((s) => s.name === name);
    if (index < 0 || spec === undefined) throw new Error(`no component named ${name}`);
    await components[index].stop();
    const component = launch(spec, join(dir, 'config', `${spec.name}.yaml`));
    components[index] = component;
    await waitReady(component);
    return component;
  };
  const stop = async () => {
    await Promise.all(components.map((c) => c.stop()));
    await minio?.stop();
  };
  try {
    // Dependencies first: origin, then build-index and tracker (both check the
    // origin), then the rest.
    for (const group of [['origin'], ['build-index', 'tracker'], ['proxy', 'agent']]) {
      const started = [];
      for (const spec of specs.filter((s) => group.includes(s.app))) {
        const configFile = join(dir, 'config', `${spec.name}.yaml`);
        // JSON is YAML: the binaries read it as their YAML config.
        await writeFile(configFile, `${JSON.stringify(spec.config, null, 2)}\n`);
        const component = launch(spec, configFile);
        components.push(component);
        started.push(component);
      }
      await Promise.all(started.map((c) => waitReady(c)));
    }
  } catch (err) {
    await stop();
    throw err;
  }

  const endpoints = {
    proxy: [url(ports.proxy)],
    origin: ports.origins.map(url),
    tracker: ports.trackers.map(url),
    'build-index': ports.buildIndexes.map(url),
    agent: ports.agents.map(agentUrl),
    ...(minio === undefined ? {} : { minio: [minio.url] }),
    'origin-p2p': ports.originsP2p.map((port) => `tcp://${host}:${port}`),
    'agent-p2p': ports.agentsP2p.map((port) => `tcp://${host}:${port}`),
  };
  if (secure !== undefined) Object.assign(endpoints, secure.endpoints);
  await writeFile(join(dir, 'endpoints.json'), `${JSON.stringify(endpoints, null, 2)}\n`);
  const component = (name) => components.find((c) => c.name === name);
  return {
    id,
    dir,
    endpoints,
    components,
    component,
    restart,
    stop: () => stop().finally(() => secure?.close()),
    minio,
    ...(secure === undefined
      ? {}
      : { secure: { user: secure.user, caFile: secure.endpoints.ca, certDir: secure.certDir } }),
  };
}

/**
 * The replication block of every build-index node of the cluster, without its dbPath
 * (one per node): `{ clusterId, rules }` with every destination a build-index URL.
 */
function replicationOf(options) {
  if (options.replication === undefined) return undefined;
  const { clusterId = options.id, rules = [] } = options.replication;
  if (clusterId === undefined)
    throw new Error('replication needs a cluster id: set id (or replication.clusterId)');
  for (const rule of rules) {
    if (typeof rule.destination?.discover !== 'string') {
      throw new Error(
        `replication rule ${rule.name}: destination must be { discover: <build-index URL> }` +
          ' ({ cluster: <id> } only between clusters started together by startClusters)',
      );
    }
  }
  return { clusterId, rules };
}

/**
 * Starts several clusters side by side and waits until all are ready. Every port of every
 * cluster is planned before any starts, so a rule's destination `{ cluster: 'b' }` becomes
 * `{ discover: <b's first build-index URL> }` whichever cluster starts first. Options and
 * result are described in cluster.d.ts (ClustersOptions, Clusters).
 */
export async function startClusters(options) {
  const { clusters: members = [], dir: baseDir, ...shared } = options;
  const dir = resolve(baseDir ?? join(repoRoot, '.devcluster'));
  const ids = members.map((m) => m.id);
  if (ids.length === 0) throw new Error('startClusters needs at least one cluster');
  for (const id of ids) {
    if (typeof id !== 'string' || !CLUSTER_ID.test(id)) throw new Error(`bad cluster id "${id}"`);
  }
  if (new Set(ids).size !== ids.length) throw new Error(`cluster ids must differ: ${ids.join(', ')}`);

  const plans = [];
  for (const [index, { rules, ...member }] of members.entries()) {
    const clusterOptions = {
      ...shared,
      ...member,
      dir: member.dir ?? join(dir, member.id),
      portOffset: member.portOffset ?? index * CLUSTER_PORT_STRIDE,
    };
    const ports = await planPorts(
      clusterOptions.ports ?? 'free',
      countsOf(clusterOptions),
      clusterOptions.portOffset,
    );
    plans.push({ options: clusterOptions, ports, rules });
  }
  const buildIndexUrl = new Map(
    plans.map((p) => [p.options.id, `http://127.0.0.1:${p.ports.buildIndexes[0]}`]),
  );
  const resolveRule = (from, rule) => {
    const target = rule.destination?.cluster;
    if (target === undefined) return rule;
    const discover = buildIndexUrl.get(target);
    if (discover === undefined || target === from) {
      throw new Error(`replication rule ${rule.name} of cluster ${from}: no other cluster named "${target}"`);
    }
    return { ...rule, destination: { discover } };
  };
  for (const plan of plans) {
    if (plan.rules === undefined) continue;
    const from = plan.options.id;
    plan.options.replication = { clusterId: from, rules: plan.rules.map((rule) => resolveRule(from, rule)) };
  }

  // All at once: a build-index may dial its destination while starting.
  const results = await Promise.allSettled(plans.map((p) => launchCluster(p.options, p.ports)));
  const started = results.filter((r) => r.status === 'fulfilled').map((r) => r.value);
  const failed = results.find((r) => r.status === 'rejected');
  if (failed !== undefined) {
    await Promise.all(started.map((c) => c.stop()));
    throw failed.reason;
  }
  const clusters = Object.fromEntries(started.map((c) => [c.id, c]));
  // The first cluster's shape at the top, so single-cluster readers keep working.
  const endpoints = {
    ...started[0].endpoints,
    clusters: Object.fromEntries(started.map((c) => [c.id, c.endpoints])),
  };
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'endpoints.json'), `${JSON.stringify(endpoints, null, 2)}\n`);
  const cluster = (id) => {
    const found = clusters[id];
    if (found === undefined) throw new Error(`no cluster named ${id}`);
    return found;
  };
  const stop = async () => {
    await Promise.all(started.map((c) => c.stop()));
  };
  return { dir, endpoints, clusters, cluster, stop };
}
