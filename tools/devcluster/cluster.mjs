// Starts a local cluster of real component processes (origin, tracker, build-index,
// proxy, agents) from the built apps, on fixed default ports or on free ones, with all
// state under one directory. Used by `npm run devcluster`, the e2e tests and benchmarks.
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { minioStorageConfig, startMinio } from './minio.mjs';
import { startComponent, waitReady } from './processes.mjs';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/** Default ports of ARCHITECTURE.md. */
export const DEFAULT_PORTS = {
  proxy: 15000,
  originP2p: 15001,
  origin: 15002,
  tracker: 15003,
  buildIndex: 15004,
  agents: [16000, 17000],
  agentsP2p: [16001, 17001],
};

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

/**
 * Free ports come from below Linux's ephemeral range (32768 and up by default). A port the
 * kernel picked with listen(0) lies in that range, where every outgoing connection takes its
 * local port, so a cluster busy dialing could take it before the app bound it: an agent then
 * exited at start with EADDRINUSE, now and then, in the HA e2e tests.
 */
const FREE_PORT_MIN = 20_000;
const FREE_PORT_MAX = 32_767;
/** Ports handed out by this process, so that concurrent picks never return the same one. */
const handedOut = new Set();

export async function freePort(host = '127.0.0.1') {
  for (;;) {
    const port = FREE_PORT_MIN + Math.floor(Math.random() * (FREE_PORT_MAX - FREE_PORT_MIN + 1));
    if (handedOut.has(port)) continue;
    handedOut.add(port);
    if (await isFree(port, host)) return port;
    handedOut.delete(port);
  }
}

async function isFree(port, host = '127.0.0.1') {
  return new Promise((resolveFree) => {
    const server = createServer();
    server.once('error', () => resolveFree(false));
    server.listen(port, host, () => server.close(() => resolveFree(true)));
  });
}

/**
 * Ports for further instances of a component in default mode: the next free ones
 * after the documented block (15000-15004), handed out once each.
 */
function createPortAllocator(first = 15005) {
  let next = first;
  return async () => {
    while (!(await isFree(next))) next++;
    return next++;
  };
}

async function pickPorts(mode, counts) {
  const {
    agents: agentCount,
    origins: originCount,
    trackers: trackerCount,
    buildIndexes: buildIndexCount,
  } = counts;
  if (mode === 'default') {
    const agents = Array.from({ length: agentCount }, (_, i) => 16000 + i * 1000);
    const nextPort = createPortAllocator();
    const origins = [DEFAULT_PORTS.origin];
    const originsP2p = [DEFAULT_PORTS.originP2p];
    for (let i = 1; i < originCount; i++) {
      origins.push(await nextPort());
      originsP2p.push(await nextPort());
    }
    const trackers = [DEFAULT_PORTS.tracker];
    for (let i = 1; i < trackerCount; i++) trackers.push(await nextPort());
    const buildIndexes = [DEFAULT_PORTS.buildIndex];
    for (let i = 1; i < buildIndexCount; i++) buildIndexes.push(await nextPort());
    return {
      ...DEFAULT_PORTS,
      origins,
      originsP2p,
      trackers,
      buildIndexes,
      agents,
      agentsP2p: agents.map((port) => port + 1),
      nextPort,
    };
  }
  const take = () => freePort();
  const many = (n) => Promise.all(Array.from({ length: n }, take));
  return {
    proxy: await take(),
    origins: await many(originCount),
    originsP2p: await many(originCount),
    trackers: await many(trackerCount),
    buildIndexes: await many(buildIndexCount),
    agents: await many(agentCount),
    agentsP2p: await many(agentCount),
    nextPort: take,
  };
}

/**
 * Starts the cluster and waits until every component is ready.
 * options: { dir, ports: 'default' | 'free', agents: number, origins: number, replicas: number,
 *   trackers: number, buildIndexes: number, logLevel,
 *   overrides: { origin, tracker, buildIndex, proxy, agent } }
 * Returns { dir, endpoints, components, stop() }.
 */
export async function startCluster(options = {}) {
  const dir = resolve(options.dir ?? join(repoRoot, '.devcluster'));
  const agentCount = options.agents ?? 2;
  const originCount = options.origins ?? 1;
  const ports = await pickPorts(options.ports ?? 'free', {
    agents: agentCount,
    origins: originCount,
    trackers: options.trackers ?? 1,
    buildIndexes: options.buildIndexes ?? 1,
  });
  // Every component finds the origins through the same ring: same members, same replicas.
  const originRing = {
    nodes: ports.origins.map((port) => `127.0.0.1:${port}`),
    replicas: options.replicas ?? Math.min(originCount, 2),
  };
  const logLevel = options.logLevel ?? 'info';
  const host = '127.0.0.1';
  const url = (port) => `http://${host}:${port}`;
  // Every agent and origin computes the same tracker ring; every client lists every build-index.
  const trackerRing = { nodes: ports.trackers.map((port) => `${host}:${port}`) };
  const buildIndexNodes = { nodes: ports.buildIndexes.map((port) => `${host}:${port}`) };
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
  for (const spec of specs) {
    if (spec.app === 'origin') {
      spec.config.cache = { dir: join(dir, spec.name, 'cache') };
      spec.config.writeBack = { dbPath: join(dir, spec.name, 'write-back.db') };
      if (minio !== undefined) spec.config.storage = minioStorageConfig(minio.url, 'origin');
    }
    if (spec.app === 'build-index' && minio !== undefined)
      spec.config.storage = minioStorageConfig(minio.url, spec.name);
  }

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
      url: url(spec.port),
      logFile: join(dir, 'logs', `${spec.name}.log`),
      cwd: repoRoot,
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
    agent: ports.agents.map(url),
    ...(minio === undefined ? {} : { minio: [minio.url] }),
    'origin-p2p': ports.originsP2p.map((port) => `tcp://${host}:${port}`),
    'agent-p2p': ports.agentsP2p.map((port) => `tcp://${host}:${port}`),
  };
  await writeFile(join(dir, 'endpoints.json'), `${JSON.stringify(endpoints, null, 2)}\n`);
  const component = (name) => components.find((c) => c.name === name);
  return { dir, endpoints, components, component, restart, stop, minio };
}
