import { isIP } from 'node:net';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '@kraken/service-kit';
import { agentConfigSchema } from './agent-config.js';

describe('agent config', () => {
  it('keeps the registry on the host by default: loopback, plain HTTP', () => {
    const config = parseConfig(agentConfigSchema, {});
    // The registry serves any pull unauthenticated; only this host's containerd may reach it.
    expect(config.listen.host).toBe('127.0.0.1');
    expect(isIP(config.listen.host)).toBe(4);
    expect(config.tls.server).toBeUndefined();
    expect(config.tls.client).toBeUndefined();
  });

  it('takes a client certificate for the links to the origins, build-index and trackers', () => {
    const config = parseConfig(agentConfigSchema, {
      tls: {
        client: {
          caFile: '/etc/kraken/ca.crt',
          certFile: '/etc/kraken/tls.crt',
          keyFile: '/etc/kraken/tls.key',
        },
      },
    });
    expect(config.tls.client).toMatchObject({ caFile: '/etc/kraken/ca.crt', reloadIntervalMs: 30_000 });
  });
});
