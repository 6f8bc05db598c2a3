/**
 * Each component's config file, rendered from a KrakenCluster: the origin and
 * build-index files one per ring member (a member names itself in its own file), the
 * tracker, proxy and agent files one each. Every file is parsed with its component's
 * schema (@kraken/component-configs) before it is returned, so a spec the operator
 * accepts never becomes a pod that refuses its config. Only what the operator decides
 * is written; every other key keeps the component's own default.
 *
 * `addressing` serves tests that run the rendered files as local processes: it maps the
 * in-cluster addresses (component-names.ts) to `host:port` pairs, a mapped member
 * listening on its mapped address, and puts each member's data under its own directory.
 */
import type { z } from 'zod';
import {
  agentConfigSchema,
  buildIndexConfigSchema,
  originConfigSchema,
  proxyConfigSchema,
  trackerConfigSchema,
} from '@kraken/component-configs';
import { InvalidSpecError } from '../errors.js';
import { KRAKEN_CLUSTER_KIND } from '../api/v1alpha1/group-version.js';
import type { KrakenCluster, KrakenClusterSpec } from '../api/v1alpha1/kraken-cluster-types.js';
import { clusterIdOf, validateKrakenCluster } from '../api/v1alpha1/kraken-cluster-validation.js';
import { quantityBytes } from '../api/v1alpha1/quantity.js';
import { specIssues } from '../api/v1alpha1/spec-validation.js';
import { PORTS, memberAddress, serviceAddress, type ClusterRef, type Component } from './component-names.js';
import { secretFile, tlsFiles } from './secret-mounts.js';
import { storageConfig } from './storage-config-render.js';

export type OriginConfigInput = z.input<typeof originConfigSchema>;
export type TrackerConfigInput = z.input<typeof trackerConfigSchema>;
export type BuildIndexConfigInput = z.input<typeof buildIndexConfigSchema>;
export type ProxyConfigInput = z.input<typeof proxyConfigSchema>;
export type AgentConfigInput = z.input<typeof agentConfigSchema>;

export interface ConfigAddressing {
  /** In-cluster `host:port` → the `host:port` to use instead; a mapped member also listens there. */
  readonly addresses?: Readonly<Record<string, string>>;
  /** Data directory of a member (`origin-0`, `build-index-1`, `tracker-0`, `proxy`, `agent`); default /var/lib/kraken. */
  readonly dataDir?: (member: string) => string;
  /** The identity (certificate name) the operator writes replication rules as; default `operator`. */
  readonly operatorIdentity?: string;
}

export interface ComponentConfigs {
  readonly origins: readonly OriginConfigInput[];
  readonly trackers: readonly TrackerConfigInput[];
  readonly buildIndex: readonly BuildIndexConfigInput[];
  readonly proxy: ProxyConfigInput;
  readonly agent: AgentConfigInput;
}

/** Where a component keeps its state in its container (the image's working directory). */
export const DATA_DIR = '/var/lib/kraken';

/** Every component's config, validated; throws InvalidSpecError for a spec that cannot be rendered. */
export function renderComponentConfigs(
  cluster: Pick<KrakenCluster, 'metadata' | 'spec'>,
  addressing: ConfigAddressing = {},
): ComponentConfigs {
  const spec = validateKrakenCluster(cluster);
  return componentConfigs({
    cluster: cluster.metadata,
    spec,
    clusterId: clusterIdOf(cluster, spec),
    addressing,
  });
}

interface RenderContext {
  readonly cluster: ClusterRef;
  readonly spec: KrakenClusterSpec;
  readonly clusterId: string;
  readonly addressing: ConfigAddressing;
}

/** The configs of an already validated spec. */
export function componentConfigs(context: RenderContext): ComponentConfigs {
  const { cluster, spec, clusterId, addressing } = context;
  const mapped = (address: string) => addressing.addresses?.[address] ?? address;
  const dataDir = (member: string) => addressing.dataDir?.(member) ?? DATA_DIR;
  /** Where a member listens: on every address at its port in a pod, or where it is mapped to. */
  const listenAt = (address: string, port: number) => {
    const target = mapped(address);
    return target === address ? { host: '0.0.0.0', port } : hostPort(target);
  };
  const range = (count: number) => Array.from({ length: count }, (_, i) => i);
  const originHttp = range(spec.origins.replicas).map((i) =>
    memberAddress(cluster, 'origin', i, PORTS.origin),
  );
  const originP2p = range(spec.origins.replicas).map((i) =>
    memberAddress(cluster, 'origin', i, PORTS.originP2p),
  );
  const trackers = range(spec.trackers.replicas).map((i) =>
    memberAddress(cluster, 'tracker', i, PORTS.tracker),
  );
  const buildIndexes = range(spec.buildIndex.replicas).map((i) =>
    memberAddress(cluster, 'build-index', i, PORTS.buildIndex),
  );

  const scheme = spec.tls === undefined ? 'http' : 'https';
  const originRing = { nodes: originHttp.map(mapped), scheme, replicas: spec.origins.ringReplicas } as const;
  const trackerRing = { nodes: trackers.map(mapped), scheme } as const;
  const buildIndexRing = { nodes: buildIndexes.map(mapped), scheme } as const;
  const logging = { level: spec.logLevel };

  const tls = (component: Component) => {
    const files = tlsFiles(spec, component);
    if (files === undefined) return {};
    return {
      // Optional client certificates: the kubelet's HTTPS probes present none, and writes still need one.
      server: {
        certFile: files.certFile,
        keyFile: files.keyFile,
        clientCaFile: files.caFile,
        clientAuth: 'optional',
      },
      client: { caFile: files.caFile, certFile: files.certFile, keyFile: files.keyFile },
    } as const;
  };
  const membership = (component: 'origin' | 'agent') => {
    const files = tlsFiles(spec, component);
    if (files !== undefined) return { tls: files };
    const token = spec.p2p.clusterToken;
    return token === undefined ? {} : { clusterTokenFile: secretFile(token) };
  };

  const origins = originHttp.map((address, i): OriginConfigInput => {
    const data = dataDir(`origin-${i}`);
    const p2pListen = listenAt(originP2p[i] ?? '', PORTS.originP2p);
    return {
      listen: listenAt(address, PORTS.origin),
      storage: storageConfig(spec.storage, { component: 'origin', index: i, dataDir: data }),
      cache: { dir: `${data}/cache`, maxBytes: quantityBytes(spec.origins.cacheSize) },
      writeBack: { dbPath: `${data}/write-back.db` },
      uploads: { dir: `${data}/uploads` },
      origins: originRing,
      replication: { self: mapped(address) },
      upstreams: spec.origins.upstreams.map((upstream) => ({
        name: upstream.name,
        url: upstream.url,
        ...(upstream.credentials === undefined ? {} : { credentialsFile: secretFile(upstream.credentials) }),
      })),
      p2p: {
        listen: p2pListen,
        ...(p2pListen.host === '0.0.0.0' ? {} : { advertiseHost: p2pListen.host }),
        clusterId,
        dir: `${data}/p2p`,
        connections: spec.p2p.connections,
        ...membership('origin'),
      },
      trackers: trackerRing,
      tls: tls('origin'),
      logging,
    };
  });

  const trackerConfigs = trackers.map((address): TrackerConfigInput => ({
    listen: listenAt(address, PORTS.tracker),
    origins: originRing,
    tls: tls('tracker'),
    logging,
  }));

  const buildIndex = buildIndexes.map((address, i): BuildIndexConfigInput => {
    const data = dataDir(`build-index-${i}`);
    return {
      listen: listenAt(address, PORTS.buildIndex),
      storage: storageConfig(spec.storage, { component: 'build-index', index: i, dataDir: data }),
      origins: originRing,
      cluster: { peers: buildIndexes.filter((_, j) => j !== i).map((peer) => `${scheme}://${mapped(peer)}`) },
      replication: {
        clusterId,
        advertiseUrl: `${scheme}://${mapped(address)}`,
        dbPath: `${data}/replication.db`,
      },
      // The operator writes replication rules; remote build-indexes replicate in.
      tls: {
        ...tls('build-index'),
        writers: ['proxy', 'build-index', addressing.operatorIdentity ?? 'operator'],
      },
      logging,
    };
  });

  const proxyData = dataDir('proxy');
  const proxyTls = tls('proxy');
  const serving = spec.proxy.tls?.secretName;
  const proxy: ProxyConfigInput = {
    listen: listenAt(serviceAddress(cluster, 'proxy', PORTS.proxy), PORTS.proxy),
    registry: { uploads: { dir: `${proxyData}/uploads` } },
    auth: proxyAuth(spec),
    origins: originRing,
    buildIndex: buildIndexRing,
    // Beside the uploads, so that a finished upload is hard-linked in.
    cache: { blobDir: `${proxyData}/blob-cache` },
    tls: {
      // Pushers bring no client certificate: the proxy checks passwords or tokens.
      ...(serving !== undefined
        ? {
            server: {
              certFile: secretFile({ name: serving, key: 'tls.crt' }),
              keyFile: secretFile({ name: serving, key: 'tls.key' }),
            },
          }
        : proxyTls.server === undefined
          ? {}
          : { server: { certFile: proxyTls.server.certFile, keyFile: proxyTls.server.keyFile } }),
      ...(proxyTls.client === undefined ? {} : { client: proxyTls.client }),
    },
    logging,
  };

  const agentData = dataDir('agent');
  const agent: AgentConfigInput = {
    // The node's loopback: containerd and the node's clients reach it, nothing else does.
    listen: { host: '127.0.0.1', port: spec.agents.registryPort },
    cache: { dir: `${agentData}/cache`, maxBytes: quantityBytes(spec.agents.cache.size) },
    origins: originRing,
    buildIndex: buildIndexRing,
    trackers: trackerRing,
    p2p: {
      listen: { host: '0.0.0.0', port: spec.agents.p2pPort },
      clusterId,
      dir: `${agentData}/p2p`,
      connections: spec.p2p.connections,
      bandwidth: spec.agents.bandwidth,
      ...membership('agent'),
    },
    mirror: {
      upstreams: spec.origins.upstreams.map((upstream) => ({ name: upstream.name })),
      pushRegistries: spec.agents.pushRegistries,
    },
    tls: tls('agent').client === undefined ? {} : { client: tls('agent').client },
    logging,
  };

  return {
    origins: origins.map((c, i) => checked(originConfigSchema, c, `origin-${i}`)),
    trackers: trackerConfigs.map((c, i) => checked(trackerConfigSchema, c, `tracker-${i}`)),
    buildIndex: buildIndex.map((c, i) => checked(buildIndexConfigSchema, c, `build-index-${i}`)),
    proxy: checked(proxyConfigSchema, proxy, 'proxy'),
    agent: checked(agentConfigSchema, agent, 'agent'),
  };
}

function proxyAuth(spec: KrakenClusterSpec): ProxyConfigInput['auth'] {
  const { htpasswd, token, rules, anonymousPull } = spec.proxy.auth;
  return {
    ...(htpasswd === undefined
      ? {}
      : {
          htpasswd: {
            file: secretFile(htpasswd.secret),
            ...(htpasswd.groups === undefined ? {} : { groupsFile: secretFile(htpasswd.groups) }),
            realm: htpasswd.realm,
          },
        }),
    ...(token === undefined
      ? {}
      : {
          token: {
            realm: token.realm,
            service: token.service,
            issuer: token.issuer,
            ...(token.publicKey === undefined ? {} : { publicKeyFile: secretFile(token.publicKey) }),
            ...(token.jwksUrl === undefined ? {} : { jwksUrl: token.jwksUrl }),
            ...(token.groupsClaim === undefined ? {} : { groupsClaim: token.groupsClaim }),
            leewaySeconds: token.leewaySeconds,
          },
        }),
    rules,
    anonymousPull,
  };
}

/** `config`, after its component's schema accepted it; a refusal names the rendered file's key. */
function checked<S extends z.ZodType>(schema: S, config: z.input<S>, member: string): z.input<S> {
  const result = schema.safeParse(config);
  if (!result.success)
    throw new InvalidSpecError(
      KRAKEN_CLUSTER_KIND,
      specIssues(`${member} config`, result.error.issues).map((issue) => ({
        field: 'spec',
        message: `the rendered ${issue.field}: ${issue.message}`,
      })),
    );
  return config;
}

function hostPort(address: string): { host: string; port: number } {
  const match = /^(.*):(\d+)$/.exec(address);
  if (match === null) throw new RangeError(`not host:port: ${address}`);
  return { host: (match[1] ?? '').replace(/^\[(.*)\]$/, '$1'), port: Number(match[2]) };
}
