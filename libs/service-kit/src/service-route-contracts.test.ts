import { describe, expect, it } from 'vitest';
import { createHttpServer } from './http-server.js';
import { silentLogger } from './logger.js';
import { createMetrics } from './metrics.js';
import { readinessReportSchema } from './readiness.js';
import { healthSchema, serviceRouteContracts } from './service-route-contracts.js';

describe('serviceRouteContracts', () => {
  it('name the routes every server serves, answering as documented', async () => {
    const server = createHttpServer({
      logger: silentLogger(),
      metrics: createMetrics('demo', { defaultMetrics: false }),
      readinessChecks: [{ name: 'disk', check: async () => Promise.reject(new Error('gone')) }],
    });
    for (const route of serviceRouteContracts) {
      expect(server.hasRoute({ method: route.method, url: route.path }), route.path).toBe(true);
    }
    expect(healthSchema.parse((await server.inject('/health')).json())).toEqual({ status: 'ok' });
    const readiness = await server.inject('/readiness');
    expect(readiness.statusCode).toBe(503);
    expect(readinessReportSchema.parse(readiness.json()).ready).toBe(false);
    await server.close();
  });
});
