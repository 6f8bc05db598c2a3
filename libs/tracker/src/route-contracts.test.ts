import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { createMetrics } from '@kraken/service-kit';
import { createPeerPolicy } from './peer-policy.js';
import { createPeerStore } from './peer-store.js';
import { trackerRouteContracts } from './route-contracts.js';
import { createTrackerRoutes } from './routes.js';

// The API document is rendered from the contracts: they must name exactly the routes
// the plugin serves, or the document would drift.
describe('trackerRouteContracts', () => {
  it('names every route the tracker serves, and no other', async () => {
    const app = Fastify();
    const served: string[] = [];
    const headless = new Set<string>();
    app.addHook('onRoute', (route) => {
      for (const method of [route.method].flat()) served.push(`${method} ${route.url}`);
      if (route.method === 'GET' && route.exposeHeadRoute !== false) headless.add(`HEAD ${route.url}`);
    });
    await app.register(
      createTrackerRoutes({
        store: createPeerStore({ ttlMs: 1000 }),
        policy: createPeerPolicy(),
        metainfo: { getMetainfo: async () => undefined },
        metrics: createMetrics('tracker', { defaultMetrics: false }),
        peersPerAnnounce: 5,
        announceIntervalSeconds: 30,
      }),
    );
    await app.ready();
    const documented = trackerRouteContracts.map((route) => `${route.method} ${route.path}`);
    // A GET answers HEAD too unless told otherwise; only routes of their own are contracts.
    expect(served.filter((route) => !headless.has(route)).sort()).toEqual(documented.sort());
    await app.close();
  });
});
