import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig, silentLogger } from '@kraken/service-kit';
import { createApp, type App } from './app.js';
import { configSchema } from './config.js';

let app: App | undefined;
let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'operator-app-'));
});
afterEach(async () => {
  await app?.close();
  app = undefined;
  await rm(dir, { recursive: true, force: true });
});

/** A kubeconfig naming a server nothing listens on. */
async function unreachableKubeconfig(): Promise<string> {
  const file = join(dir, 'kubeconfig');
  await writeFile(
    file,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters: [{name: c, cluster: {server: "http://127.0.0.1:1"}}]',
      'users: [{name: u, user: {token: secret-token-value}}]',
      'contexts: [{name: x, context: {cluster: c, user: u, namespace: kraken}}]',
      'current-context: x',
      '',
    ].join('\n'),
  );
  return file;
}

describe('operator app', () => {
  it('serves the operational endpoints, and is not ready while the API server is unreachable', async () => {
    const kubeconfig = await unreachableKubeconfig();
    app = createApp(
      parseConfig(configSchema, {
        listen: { port: 0 },
        kubernetes: { kubeconfig },
        leaderElection: { enabled: false },
      }),
      { logger: silentLogger(), env: {} },
    );
    await app.start();
    expect((await fetch(`${app.url}/health`)).status).toBe(200);
    const readiness = await fetch(`${app.url}/readiness`);
    expect(readiness.status).toBe(503);
    const report = await readiness.text();
    expect(report).toContain('kubernetes');
    expect(report).not.toContain('secret-token-value');
    const metrics = await (await fetch(`${app.url}/metrics`)).text();
    expect(metrics).toContain('kraken_operator_leader');
    expect(metrics).toContain('kraken_operator_work_queue_depth');
  });
  it('names an unknown config key', () => {
    expect(() => parseConfig(configSchema, { listen: { prot: 1 } })).toThrow(/listen\.prot: unknown key/);
  });
  it('refuses a service address that is not host:port', () => {
    expect(() => parseConfig(configSchema, { serviceAddresses: { 'a.svc:15004': 'nowhere' } })).toThrow(
      /serviceAddresses/,
    );
  });
  it('refuses leader election timings that cannot work', () => {
    expect(() =>
      parseConfig(configSchema, { leaderElection: { leaseDurationMs: 5000, renewDeadlineMs: 8000 } }),
    ).toThrow(/leaderElection/);
  });
});
