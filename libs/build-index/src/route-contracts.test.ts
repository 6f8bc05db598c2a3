import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { createMetrics, silentLogger } from '@kraken/service-kit';
import { createFilesystemBackend } from '@kraken/storage-backends';
import { createBuildIndexRoutes } from './api/routes.js';
import { createBuildIndexCluster } from './cluster/cluster.js';
import { createBuildIndexReplication } from './replication/replication.js';
import { replicationConfigSchema } from './replication/rule-config.js';
import { buildIndexRouteContracts } from './route-contracts.js';

// The API document is rendered from the contracts: they must name exactly the routes a
// node serves (tag API, cluster and replication), or the document would drift.
describe('buildIndexRouteContracts', () => {
  it('names every route a build-index node serves, and no other', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'build-index-contracts-'));
    const backend = createFilesystemBackend({ root: join(dir, 'store') });
    const logger = silentLogger();
    const metrics = createMetrics('build-index', { defaultMetrics: false });
    const origin = { statBlob: async () => undefined, getBlob: async () => undefined };
    const cluster = createBuildIndexCluster({
      backend,
      peers: [],
      replicationTimeoutMs: 1000,
      antiEntropyIntervalMs: 0,
      logger,
      metrics,
    });
    const replication = createBuildIndexReplication({
      config: replicationConfigSchema.parse({ dbPath: join(dir, 'queue.db') }),
      cluster,
      backend,
      origin,
      origins: () => ({ nodes: [], replicas: 1 }),
      logger,
      metrics,
    });
    const app = Fastify();
    const served: string[] = [];
    const headless = new Set<string>();
    app.addHook('onRoute', (route) => {
      for (const method of [route.method].flat()) served.push(`${method} ${route.url}`);
      if (route.method === 'GET' && route.exposeHeadRoute !== false) headless.add(`HEAD ${route.url}`);
    });
    await app.register(createBuildIndexRoutes({ backend, origin, logger, metrics, tags: cluster.tags }));
    await app.register(cluster.routes);
    await app.register(replication.routes);
    await app.ready();
    try {
      const documented = buildIndexRouteContracts.map((route) => `${route.method} ${route.path}`);
      // A GET answers HEAD too unless told otherwise; only routes of their own are contracts.
      expect(served.filter((route) => !headless.has(route)).sort()).toEqual(documented.sort());
    } finally {
      await app.close();
      await replication.close();
      await cluster.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
