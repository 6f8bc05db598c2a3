/**
 * In-process origins for ring tests: N origin servers on ephemeral loopback ports,
 * each with its own filesystem store, its own view of the ring (active probes off:
 * tests drive health by hand) and replication wired into its routes.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '@kraken/foundation';
import { createLiveRing, createRingConfigSchema, type LiveRing } from '@kraken/hashring';
import { createHttpServer, createMetrics, silentLogger, type Metrics } from '@kraken/service-kit';
import {
  createContentStore,
  createFilesystemBackend,
  type BlobWriteOptions,
  type ContentStore,
} from '@kraken/storage-backends';
import type { FastifyInstance } from 'fastify';
import { createOriginClient } from '../client/origin-client.js';
import { originReplicationSchema, type OriginReplicationConfig } from '../replication/replication-config.js';
import { createOriginReplication, type OriginReplication } from '../replication/replication.js';
import { createOriginRoutes } from '../api/routes.js';
import type { OriginNodeClient } from '../client/client-types.js';

export interface TestOrigin {
  readonly id: string;
  readonly url: string;
  readonly store: ContentStore;
  readonly ring: LiveRing;
  readonly replication: OriginReplication;
  readonly metrics: Metrics;
  readonly server: FastifyInstance;
  /** The namespace of every write this origin's store received, in order. */
  readonly namespaces: (string | undefined)[];
}

export interface TestOrigins {
  readonly origins: TestOrigin[];
  readonly nodes: string[];
  /** A ring over every origin, as a client would build it. */
  ring(): LiveRing;
  byId(id: string): TestOrigin;
  /** Marks a node unhealthy (or healthy again) in every ring built here. */
  setHealthy(id: string, healthy: boolean): void;
  close(): Promise<void>;
}

export async function startTestOrigins(
  count: number,
  options: { replicas: number; replication?: Partial<OriginReplicationConfig> },
): Promise<TestOrigins> {
  const dir = await mkdtemp(join(tmpdir(), 'kraken-origin-ring-'));
  const logger = silentLogger();
  const replications: OriginReplication[] = [];
  const started: {
    server: FastifyInstance;
    store: ContentStore;
    metrics: Metrics;
    url: string;
    namespaces: (string | undefined)[];
  }[] = [];
  for (let i = 0; i < count; i++) {
    const plain = createContentStore({
      backend: createFilesystemBackend({ root: join(dir, `o${i}`, 'store') }),
    });
    const namespaces: (string | undefined)[] = [];
    // Records the namespace each write carried, as the origin's routed store would see it.
    const store: ContentStore = {
      ...plain,
      write: (digest, source, writeOptions: BlobWriteOptions & { namespace?: string } = {}) => {
        const { namespace, ...rest } = writeOptions;
        namespaces.push(namespace);
        return plain.write(digest, source, rest);
      },
    };
    const metrics = createMetrics('origin', { defaultMetrics: false });
    const server = createHttpServer({ logger, metrics });
    await server.register(
      createOriginRoutes({
        store,
        uploadsDir: join(dir, `o${i}`, 'uploads'),
        logger,
        metrics,
        onStored: (event) => replications[i]?.onStored(event) ?? Promise.resolve(),
      }),
    );
    const url = await server.listen({ host: '127.0.0.1', port: 0 });
    started.push({ server, store, metrics, url, namespaces });
  }
  const nodes = started.map((s) => new URL(s.url).host);
  const ringConfig = createRingConfigSchema().parse({
    nodes,
    replicas: options.replicas,
    health: { unhealthyThreshold: 1, healthyThreshold: 1, active: { enabled: false } },
  });
  const rings: LiveRing[] = [];
  const newRing = () => {
    const ring = createLiveRing(ringConfig);
    rings.push(ring);
    return ring;
  };
  const peers = new Map<string, OriginNodeClient>();
  const origins = started.map((s, i): TestOrigin => {
    const ring = newRing();
    const replication = createOriginReplication({
      ring,
      self: nodes[i] as string,
      store: s.store,
      clientOf: (node) => {
        const key = `${i}>${node.id}`;
        let client = peers.get(key);
        if (client === undefined) {
          client = createOriginClient({ url: node.url });
          peers.set(key, client);
        }
        return client;
      },
      config: originReplicationSchema.parse({ ...options.replication }),
      logger,
      metrics: s.metrics,
      timers: systemClock,
    });
    replications[i] = replication;
    return { id: nodes[i] as string, ...s, ring, replication };
  });
  return {
    origins,
    nodes,
    ring: newRing,
    byId(id) {
      const found = origins.find((o) => o.id === id);
      if (found === undefined) throw new Error(`no origin ${id}`);
      return found;
    },
    setHealthy(id, healthy) {
      for (const ring of rings) {
        if (healthy) ring.reportSuccess(id);
        else ring.reportFailure(id, new Error('down'));
      }
    },
    async close() {
      await Promise.all(replications.map((r) => r.close()));
      for (const ring of rings) ring.close();
      await Promise.all(origins.map((o) => o.server.close()));
      await Promise.all([...peers.values()].map((p) => p.close()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
