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

export async function freePort(host = '127.0.0.1') {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });
}

async function pickPorts(mode, agentCount) {
  if (mode === 'default') {
    const agents = Array.from({ length: agentCount }, (_, i) => 16000 + i * 1000);
    return { ...DEFAULT_PORTS, agents, agentsP2p: agents.map((port) => port + 1) };
  }
  const take = () => freePort();
  return {
    proxy: await take(),
    origin: await take(),
    originP2p: await take(),
    tracker: await take(),
    buildIndex: await take(),
    agents: await Promise.all(Array.from({ length: agentCount }, take)),
    agentsP2p: await Promise.all(Array.from({ length: agentCount }, take)),
  };
}

/**
 * Starts the cluster and waits until every component is ready.
 * options: { dir, ports: 'default' | 'free', agents: number, logLevel, overrides: { origin, tracker, buildIndex, proxy, agent } }
 * Returns { dir, endpoints, components, stop() }.
 */
export async function startCluster(options = {}) {
  const dir = resolve(options.dir ?? join(repoRoot, '.devcluster'));
  const agentCount = options.agents ?? 2;
  const ports = await pickPorts(options.ports ?? 'free', agentCount);
  const logLevel = options.logLevel ?? 'info';
  const host = '127.0.0.1';
  const url = (port) => `http://${host}:${port}`;
  await mkdir(join(dir, 'config'), { recursive: true });
  await mkdir(join(dir, 'logs'), { recursive: true });

  const o = options.overrides ?? {};
  const specs = [
    {
      name: 'origin-0',
      app: 'origin',
      port: ports.origin,
      config: {
        listen: { host, port: ports.origin },
        storage: { type: 'filesystem', root: join(dir, 'origin-0', 'store') },
        uploads: { dir: join(dir, 'origin-0', 'uploads') },
        p2p: {
          listen: { host, port: ports.originP2p },
          advertiseHost: host,
          dir: join(dir, 'origin-0', 'p2p'),
        },
        tracker: { url: url(ports.tracker) },
        logging: { level: logLevel },
      },
    },
    {
      name: 'tracker-0',
      app: 'tracker',
      port: ports.tracker,
      config: {
        listen: { host, port: ports.tracker },
        origin: { url: url(ports.origin) },
        logging: { level: logLevel },
      },
    },
    {
      name: 'build-index-0',
      app: 'build-index',
      port: ports.buildIndex,
      config: {
        listen: { host, port: ports.buildIndex },
        storage: { type: 'filesystem', root: join(dir, 'build-index-0') },
        origin: { url: url(ports.origin) },
        logging: { level: logLevel },
      },
    },
    {
      name: 'proxy-0',
      app: 'proxy',
      port: ports.proxy,
      config: {
        listen: { host, port: ports.proxy },
        registry: { uploads: { dir: join(dir, 'proxy-0', 'uploads') } },
        cache: { blobDir: join(dir, 'proxy-0', 'blob-cache') },
        origin: { url: url(ports.origin) },
        buildIndex: { url: url(ports.buildIndex) },
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
        origin: { url: url(ports.origin) },
        buildIndex: { url: url(ports.buildIndex) },
        tracker: { url: url(ports.tracker) },
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
  // write back to one backend), another for the build-index.
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
      spec.config.storage = minioStorageConfig(minio.url, 'build-index');
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
    origin: [url(ports.origin)],
    tracker: [url(ports.tracker)],
    'build-index': [url(ports.buildIndex)],
    agent: ports.agents.map(url),
    ...(minio === undefined ? {} : { minio: [minio.url] }),
    'origin-p2p': [`tcp://${host}:${ports.originP2p}`],
    'agent-p2p': ports.agentsP2p.map((port) => `tcp://${host}:${port}`),
  };
  await writeFile(join(dir, 'endpoints.json'), `${JSON.stringify(endpoints, null, 2)}\n`);
  const component = (name) => components.find((c) => c.name === name);
  return { dir, endpoints, components, component, restart, stop, minio };
}
