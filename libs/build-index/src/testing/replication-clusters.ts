/**
 * In-process "clusters" for replication tests: each is one real origin and one or
 * more build-index nodes (tag API, intra-cluster replication, cross-cluster
 * replication) on loopback ports, with filesystem storage under a test directory.
 * Hooks count what crosses: blob PUTs on the origin, changes received by each node.
 * A cluster's wall clock (`now`, the clock of its versions) and its queue clock
 * (retries, backfill) are injected, so a test can run a cluster 5 minutes ahead or
 * drive retries without sleeping. Not exported from the lib.
 */
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Clock } from '@kraken/foundation';
import { digestOf, type Digest } from '@kraken/oci-content';
import { createOriginClient, createOriginRoutes } from '@kraken/origin';
import { createMetrics, silentLogger, type Metrics } from '@kraken/service-kit';
import { createContentStore, createFilesystemBackend, type StorageBackend } from '@kraken/storage-backends';
import { createBuildIndexRoutes } from '../api/routes.js';
import { createBuildIndexClient } from '../client/build-index-client.js';
import type { BuildIndexClient } from '../client/client-types.js';
import { createBuildIndexCluster, type BuildIndexCluster } from '../cluster/cluster.js';
import type { TagChange } from '../replication/change-protocol.js';
import { createBuildIndexReplication, type BuildIndexReplication } from '../replication/replication.js';
import { replicationConfigSchema } from '../replication/rule-config.js';
import type { BuiltManifest } from './fixtures.js';

export interface TestNode {
  readonly url: string;
  readonly cluster: BuildIndexCluster;
  readonly replication: BuildIndexReplication;
  readonly client: BuildIndexClient;
  readonly metrics: Metrics;
  readonly backend: StorageBackend;
  /** Changes this node received from other clusters. */
  readonly received: TagChange[];
  readonly app: FastifyInstance;
  stop(): Promise<void>;
}

export interface TestCluster {
  readonly id: string;
  readonly originUrl: string;
  readonly nodes: TestNode[];
  /** Digests of every blob PUT to the origin, in order. */
  readonly originPuts: string[];
  /** When it returns true for a digest, the origin answers 201 to its PUT without storing it. */
  dropPut: (digest: string) => boolean;
  /** Puts an image's blobs and manifest on the origin (directly, not counted as replication). */
  upload(image: { bytes: Buffer; blobs?: readonly { digest: Digest; bytes: Buffer }[] }): Promise<void>;
  /** Uploads the image and tags it through the first node's API, like a push through the proxy. */
  push(
    repo: string,
    tag: string,
    image: BuiltManifest & { blobs?: readonly { digest: Digest; bytes: Buffer }[] },
  ): Promise<void>;
  /** Starts node `i` again over its storage and queue (after `nodes[i].stop()`). */
  restart(i: number): Promise<TestNode>;
  close(): Promise<void>;
}

export interface TestClusterOptions {
  readonly id: string;
  readonly dir: string;
  /** Ports of the build-index nodes, picked beforehand so rules can name them (`freePorts`). */
  readonly ports: readonly number[];
  /** Rules and other `replication:` settings of every node's config. */
  readonly replication?: Record<string, unknown>;
  /** Wall clock of versions; default real time. */
  readonly now?: () => Date;
  /** Clock of the replication queue and backfill; default real time. */
  readonly clock?: Clock;
  readonly random?: () => number;
  /** Nodes share one storage backend (default: one each, like the devcluster). */
  readonly sharedBackend?: boolean;
}

export async function freePorts(n: number): Promise<number[]> {
  const ports: number[] = [];
  while (ports.length < n) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const address = server.address();
        server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
      });
    });
    if (!ports.includes(port)) ports.push(port);
  }
  return ports;
}

export async function startTestCluster(options: TestClusterOptions): Promise<TestCluster> {
  const { id, dir } = options;
  const logger = silentLogger();
  const originPuts: string[] = [];
  const originServer = Fastify({ routerOptions: { maxParamLength: 1024 } });
  const cluster: Partial<TestCluster> & { dropPut: (digest: string) => boolean } = { dropPut: () => false };
  originServer.addHook('onRequest', async (request, reply) => {
    const match = /^\/v1\/blobs\/([^/?]+)/.exec(request.url);
    if (request.method !== 'PUT' || match === null) return;
    const digest = decodeURIComponent(match[1] as string);
    originPuts.push(digest);
    if (cluster.dropPut(digest)) {
      request.raw.resume();
      await reply.code(201).send();
    }
  });
  await originServer.register(
    createOriginRoutes({
      store: createContentStore({ backend: createFilesystemBackend({ root: join(dir, id, 'origin') }) }),
      uploadsDir: join(dir, id, 'origin-uploads'),
      logger,
      metrics: createMetrics('origin', { defaultMetrics: false }),
    }),
  );
  originServer.get('/readiness', async () => ({ ready: true }));
  const originUrl = (await originServer.listen({ host: '127.0.0.1', port: 0 })).replace(/\/$/, '');
  const originClient = createOriginClient({ url: originUrl });
  const urls = options.ports.map((port) => `http://127.0.0.1:${port}`);
  const shared =
    options.sharedBackend === true
      ? createFilesystemBackend({ root: join(dir, id, 'build-index') })
      : undefined;

  const startNode = async (i: number): Promise<TestNode> => {
    const url = urls[i] as string;
    const port = options.ports[i] as number;
    const backend = shared ?? createFilesystemBackend({ root: join(dir, id, `build-index-${i}`) });
    const metrics = createMetrics('build-index', { defaultMetrics: false });
    const now = options.now ?? (() => new Date());
    const buildIndexCluster = createBuildIndexCluster({
      backend,
      peers: urls.filter((u) => u !== url),
      replicationTimeoutMs: 2_000,
      antiEntropyIntervalMs: 0,
      clusterId: id,
      nodeId: url,
      now,
      logger,
      metrics,
    });
    const replication = createBuildIndexReplication({
      config: replicationConfigSchema.parse({
        clusterId: id,
        dbPath: join(dir, id, `queue-${i}.db`),
        backfillIntervalSeconds: 0,
        backfillRepositoriesPerSecond: 0,
        retry: { initialMs: 50, maxMs: 200, jitter: 0 },
        requestTimeoutMs: 2_000,
        ...options.replication,
      }),
      cluster: buildIndexCluster,
      backend,
      origin: originClient,
      origins: () => ({ nodes: [originUrl], replicas: 1 }),
      selfUrl: () => url,
      logger,
      metrics,
      ...(options.clock === undefined ? {} : { clock: options.clock }),
      ...(options.random === undefined ? {} : { random: options.random }),
    });
    const received: TagChange[] = [];
    const app = Fastify({ routerOptions: { maxParamLength: 1024 } });
    app.addHook('preHandler', async (request) => {
      if (request.method === 'PUT' && request.url === '/v1/replication/changes')
        received.push(request.body as TagChange);
    });
    await app.register(
      createBuildIndexRoutes({
        backend,
        tags: buildIndexCluster.tags,
        origin: originClient,
        logger,
        metrics,
        now,
        onTagPut: async (write) => {
          replication.onTagWrite(write);
          await buildIndexCluster.replicateTag(write.repo, write.tag, write.value, write.record);
        },
        // A referrer pushed after its tag re-queues the tag, whose closure now holds it.
        onManifestPut: (write) => replication.onManifestWrite(write),
        onTagDelete: async (event) => {
          replication.onTagDelete(event);
          await buildIndexCluster.replicateDelete(event.repo, event.tag, event.tombstone);
        },
      }),
    );
    await app.register(buildIndexCluster.routes);
    await app.register(replication.routes);
    app.get('/health', async () => ({ ok: true }));
    await replication.start();
    await app.listen({ host: '127.0.0.1', port });
    const client = createBuildIndexClient({ url });
    let stopped = false;
    const node: TestNode = {
      url,
      cluster: buildIndexCluster,
      replication,
      client,
      metrics,
      backend,
      received,
      app,
      async stop() {
        if (stopped) return;
        stopped = true;
        await client.close();
        await app.close();
        await replication.close();
        await buildIndexCluster.close();
      },
    };
    return node;
  };

  const nodes: TestNode[] = [];
  for (let i = 0; i < urls.length; i++) nodes.push(await startNode(i));

  const upload: TestCluster['upload'] = async (image) => {
    for (const blob of image.blobs ?? [])
      await originClient.putBlob(blob.digest, Readable.from([blob.bytes]));
    await originClient.putBlob(digestOf(image.bytes), Readable.from([image.bytes]));
  };

  return Object.assign(cluster, {
    id,
    originUrl,
    nodes,
    originPuts,
    upload,
    async push(repo: string, tag: string, image: Parameters<TestCluster['push']>[2]) {
      await upload(image);
      await (nodes[0] as TestNode).client.putTag(repo, tag, image.digest);
    },
    async restart(i: number) {
      const node = await startNode(i);
      nodes[i] = node;
      return node;
    },
    async close() {
      for (const node of nodes) await node.stop();
      await originClient.close();
      await originServer.close();
      await shared?.close();
    },
  }) as TestCluster;
}

/** A rule of a pair of clusters: `to` names the other cluster, which is its destination. */
export type PairRule = Record<string, unknown> & { readonly to: 'a' | 'b' };

/** Clusters `a` and `b`, one node each, with rules pointing at each other (`discover`). */
export async function startClusterPair(options: {
  readonly dir: string;
  readonly rules: { readonly a?: readonly PairRule[]; readonly b?: readonly PairRule[] };
  readonly a?: Partial<TestClusterOptions>;
  readonly b?: Partial<TestClusterOptions>;
  /** Told about each cluster as soon as it started, so a test can close it whatever happens next. */
  readonly started: (cluster: TestCluster) => void;
}): Promise<{ a: TestCluster; b: TestCluster }> {
  const [pa, pb] = (await freePorts(2)) as [number, number];
  const url = { a: `http://127.0.0.1:${pa}`, b: `http://127.0.0.1:${pb}` };
  const rulesOf = (list: readonly PairRule[] | undefined) =>
    (list ?? []).map(({ to, ...rule }) => ({ destination: { discover: url[to] }, ...rule }));
  const b = await startTestCluster({
    id: 'b',
    dir: options.dir,
    ports: [pb],
    replication: { rules: rulesOf(options.rules.b) },
    ...options.b,
  });
  options.started(b);
  const a = await startTestCluster({
    id: 'a',
    dir: options.dir,
    ports: [pa],
    replication: { rules: rulesOf(options.rules.a) },
    ...options.a,
  });
  options.started(a);
  return { a, b };
}

/** Resolves once no node of the clusters has a replication task queued or running. */
export async function replicationSettled(
  clusters: readonly TestCluster[],
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!clusters.every((c) => c.nodes.every((n) => n.replication.idle()))) {
    if (Date.now() > deadline) throw new Error(`replication did not settle within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
