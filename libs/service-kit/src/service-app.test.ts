import { describe, expect, it } from 'vitest';
import { createHttpServer } from './http-server.js';
import { createMetrics } from './metrics.js';
import { createServiceApp } from './service-app.js';
import { silentLogger } from './logger.js';

describe('createServiceApp', () => {
  it('prepares, listens, and on close drains before releasing resources, once', async () => {
    const events: string[] = [];
    const logger = silentLogger();
    const server = createHttpServer({ logger, metrics: createMetrics('app', { defaultMetrics: false }) });
    server.addHook('onClose', async () => void events.push('server closed'));
    const app = createServiceApp({
      component: 'demo',
      server,
      logger,
      listen: { host: '127.0.0.1', port: 0 },
      beforeListen: () => void events.push('prepared'),
      afterClose: async () => void events.push('resources released'),
    });
    expect(app.url).toBe('');
    await app.start();
    expect((await fetch(`${app.url}/health`)).status).toBe(200);
    await Promise.all([app.close(), app.close()]);
    await app.close();
    expect(events).toEqual(['prepared', 'server closed', 'resources released']);
  });
});
