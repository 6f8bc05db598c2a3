/**
 * A KrakenCluster run as local processes from the very configs the operator renders for
 * its pods (renderComponentConfigs): every in-cluster address, a StatefulSet pod's DNS
 * name or a Service's, is mapped to a free loopback port, each member keeps its data in
 * a directory of its own, and each component starts as `node apps/<app>/dist/main.js
 * --config <its rendered YAML>`. What differs from the pods is only where things
 * listen and live; every other key is the operator's.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { freePort } from '@kraken/devcluster';
import {
  clusterEndpoints,
  renderComponentConfigs,
  type ComponentConfigs,
  type KrakenCluster,
} from '@kraken/operator';
import { startComponent, type ComponentProcess } from '../kube/component-process.js';
import { waitFor } from '../kube/wait.js';

const ROOT = join(import.meta.dirname, '../../../..');

type App = 'origin' | 'tracker' | 'build-index' | 'proxy' | 'agent';

export interface RenderedClusterMember {
  /** `origin-0`, `build-index-1`, `tracker-0`, `proxy`, `agent`. */
  readonly name: string;
  readonly app: App;
  readonly url: string;
  readonly configFile: string;
  readonly process: ComponentProcess;
}

export interface RenderedCluster {
  readonly configs: ComponentConfigs;
  /** In-cluster `host:port` → the loopback `host:port` it was mapped to. */
  readonly addresses: Readonly<Record<string, string>>;
  readonly members: readonly RenderedClusterMember[];
  /** Base URLs, `http://127.0.0.1:<port>`. */
  readonly proxy: string;
  readonly agent: string;
  readonly origins: readonly string[];
  readonly buildIndex: readonly string[];
  readonly trackers: readonly string[];
  /** Stops every process. Idempotent. */
  stop(): Promise<void>;
}

/**
 * The agent listens on the node's loopback at `spec.agents.registryPort` and takes P2P at
 * `spec.agents.p2pPort`, which no address mapping changes: give them free ports in the spec.
 */
export async function startRenderedCluster(
  cluster: Pick<KrakenCluster, 'metadata' | 'spec'>,
  dir: string,
): Promise<RenderedCluster> {
  const endpoints = clusterEndpoints(cluster);
  const addresses: Record<string, string> = {};
  for (const address of [
    ...endpoints.origins,
    ...endpoints.originsP2p,
    ...endpoints.trackers,
    ...endpoints.buildIndex,
    endpoints.proxy,
  ])
    addresses[address] = `127.0.0.1:${await freePort()}`;
  const configs = renderComponentConfigs(cluster, {
    addresses,
    dataDir: (member) => join(dir, member),
  });
  const urlOf = (address: string) => `http://${addresses[address] ?? address}`;

  const planned: { name: string; app: App; url: string; config: unknown }[] = [
    ...configs.origins.map((config, i) => ({
      name: `origin-${i}`,
      app: 'origin' as const,
      url: urlOf(endpoints.origins[i] ?? ''),
      config,
    })),
    ...configs.trackers.map((config, i) => ({
      name: `tracker-${i}`,
      app: 'tracker' as const,
      url: urlOf(endpoints.trackers[i] ?? ''),
      config,
    })),
    ...configs.buildIndex.map((config, i) => ({
      name: `build-index-${i}`,
      app: 'build-index' as const,
      url: urlOf(endpoints.buildIndex[i] ?? ''),
      config,
    })),
    { name: 'proxy', app: 'proxy', url: urlOf(endpoints.proxy), config: configs.proxy },
    {
      name: 'agent',
      app: 'agent',
      url: `http://${configs.agent.listen?.host ?? '127.0.0.1'}:${configs.agent.listen?.port ?? 0}`,
      config: configs.agent,
    },
  ];

  await mkdir(join(dir, 'config'), { recursive: true });
  await mkdir(join(dir, 'logs'), { recursive: true });
  const members: RenderedClusterMember[] = [];
  const stop = async () => {
    await Promise.all(members.map((member) => member.process.stop(10_000)));
  };
  try {
    // Dependencies first, as the pods' readiness gates them: the origins, then what
    // checks them (build-index, tracker), then the clients.
    for (const group of [['origin'], ['build-index', 'tracker'], ['proxy', 'agent']]) {
      const started: RenderedClusterMember[] = [];
      for (const spec of planned.filter((p) => group.includes(p.app))) {
        const configFile = join(dir, 'config', `${spec.name}.yaml`);
        await writeFile(configFile, stringify(spec.config));
        const member: RenderedClusterMember = {
          name: spec.name,
          app: spec.app,
          url: spec.url,
          configFile,
          process: startComponent({
            name: spec.name,
            binary: process.execPath,
            args: [join(ROOT, 'apps', spec.app, 'dist/main.js'), '--config', configFile],
            logFile: join(dir, 'logs', `${spec.name}.log`),
          }),
        };
        members.push(member);
        started.push(member);
      }
      await Promise.all(started.map(waitServing));
    }
  } catch (err) {
    await stop();
    throw err;
  }
  const urls = (app: App) => members.filter((m) => m.app === app).map((m) => m.url);
  return {
    configs,
    addresses,
    members,
    proxy: urls('proxy')[0] ?? '',
    agent: urls('agent')[0] ?? '',
    origins: urls('origin'),
    buildIndex: urls('build-index'),
    trackers: urls('tracker'),
    stop,
  };
}

/** Until `/readiness` answers 200; gives up with the log's tail if the process exits. */
async function waitServing(member: RenderedClusterMember): Promise<void> {
  await waitFor(() => fetch(`${member.url}/readiness`).then((res) => res.status), {
    what: `${member.name} ready at ${member.url}`,
    until: (status) => status === 200,
    failFast: async () => {
      const status = member.process.exitStatus();
      if (status === undefined) return undefined;
      return new Error(`${member.name} ended (${status}):\n${await member.process.logTail()}`);
    },
  });
}
