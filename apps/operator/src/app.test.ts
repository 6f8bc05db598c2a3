import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig, silentLogger } from '@kraken/service-kit';
import { createApp, type App } from './app.js';
import { configSchema } from './config.js';

let app: App | undefined;
afterEach(async () => app?.close());

describe('operator app', () => {
  it('serves the operational endpoints', async () => {
    app = createApp(parseConfig(configSchema, { listen: { port: 0 } }), { logger: silentLogger() });
    await app.start();
    expect((await fetch(`${app.url}/health`)).status).toBe(200);
    expect((await fetch(`${app.url}/readiness`)).status).toBe(200);
    expect(await (await fetch(`${app.url}/metrics`)).text()).toContain('kraken_operator_');
  });
  it('names an unknown config key', () => {
    expect(() => parseConfig(configSchema, { listen: { prot: 1 } })).toThrow(/listen\.prot: unknown key/);
  });
});
