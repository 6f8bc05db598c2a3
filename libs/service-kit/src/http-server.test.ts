import { describe, expect, it } from 'vitest';
import { createHttpServer } from './http-server.js';
import { createMetrics } from './metrics.js';
import { runReadinessChecks } from './readiness.js';
import { silentLogger } from './logger.js';

describe('operational endpoints', () => {
  it('serve health, readiness naming the failed check, and prefixed metrics', async () => {
    const metrics = createMetrics('demo', { defaultMetrics: false });
    const server = createHttpServer({
      logger: silentLogger(),
      metrics,
      readinessChecks: [
        { name: 'disk', check: async () => {} },
        { name: 'upstream', check: async () => Promise.reject(new Error('connection refused')) },
      ],
    });
    server.get('/work', async () => 'done');
    expect((await server.inject('/health')).statusCode).toBe(200);
    const readiness = await server.inject('/readiness');
    expect(readiness.statusCode).toBe(503);
    expect(readiness.json()).toEqual({
      ready: false,
      checks: { disk: { ok: true }, upstream: { ok: false, error: 'connection refused' } },
    });
    await server.inject('/work');
    const text = (await server.inject('/metrics')).body;
    expect(text).toMatch(
      /kraken_demo_http_request_duration_seconds_count\{method="GET",route="\/work",status="200"\} 1/,
    );
    await server.close();
  });

  it('times out a readiness check that hangs', async () => {
    const report = await runReadinessChecks([{ name: 'slow', check: () => new Promise(() => {}) }], 20);
    expect(report.ready).toBe(false);
    expect(report.checks.slow?.error).toMatch(/timed out/);
  });
});
