import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { createMetrics, silentLogger } from '@kraken/service-kit';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createContentStore, createFilesystemBackend } from '@kraken/storage-backends';
import { originRouteContracts } from './route-contracts.js';
import { createOriginRoutes } from './routes.js';

// The API document is rendered from the contracts: they must name exactly the routes
// the plugin serves (with every option that adds one), or the document would drift.
describe('originRouteContracts', () => {
  it('names every route the origin serves, and no other', async () => {
    const app = Fastify();
    const served: string[] = [];
    const headless = new Set<string>();
    app.addHook('onRoute', (route) => {
      for (const method of [route.method].flat()) served.push(`${method} ${route.url}`);
      if (route.method === 'GET' && route.exposeHeadRoute !== false) headless.add(`HEAD ${route.url}`);
    });
    await app.register(
      createOriginRoutes({
        store: createContentStore({
          backend: createFilesystemBackend({ root: join(tmpdir(), 'kraken-unused') }),
        }),
        uploadsDir: '/nonexistent',
        logger: silentLogger(),
        metrics: createMetrics('origin', { defaultMetrics: false }),
        seeding: { seed: async () => undefined },
        upstreams: {
          reader: () => ({
            stat: async () => undefined,
            read: async () => Promise.reject(new Error('none')),
          }),
          resolveTag: async () => Promise.reject(new Error('none')),
        },
      }),
    );
    await app.ready();
    const documented = originRouteContracts.map((route) => `${route.method} ${route.path}`);
    // A GET answers HEAD too unless told otherwise; only routes of their own are contracts.
    expect(served.filter((route) => !headless.has(route)).sort()).toEqual(documented.sort());
    await app.close();
  });
});
