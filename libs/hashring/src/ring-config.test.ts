import { describe, expect, it } from 'vitest';
import { createRingConfigSchema, ringConfigSchema } from './ring-config.js';

describe('ring config schema', () => {
  it('fills every default from an empty object', () => {
    expect(ringConfigSchema.parse(undefined)).toEqual({
      nodes: [],
      scheme: 'http',
      replicas: 3,
      refreshIntervalMs: 30_000,
      health: {
        unhealthyThreshold: 3,
        healthyThreshold: 2,
        active: { enabled: true, path: '/health', intervalMs: 5_000, timeoutMs: 2_000 },
      },
    });
  });

  it('takes per-component defaults', () => {
    const schema = createRingConfigSchema({ nodes: ['127.0.0.1:15002'], replicas: 2 });
    expect(schema.parse({})).toMatchObject({ nodes: ['127.0.0.1:15002'], replicas: 2 });
    expect(schema.parse({ nodes: [] }).nodes).toEqual([]);
  });

  it('accepts weighted entries and DNS names', () => {
    const parsed = ringConfigSchema.parse({
      nodes: ['[::1]:15002', { address: 'http://origin-1:15002', weight: 2 }],
    });
    expect(parsed.nodes).toEqual(['[::1]:15002', { address: 'http://origin-1:15002', weight: 2 }]);
    expect(ringConfigSchema.parse({ dns: 'srv:_http._tcp.origin' }).dns).toBe('srv:_http._tcp.origin');
    expect(ringConfigSchema.parse({ dns: 'origin.kraken.svc:15002' }).dns).toBe('origin.kraken.svc:15002');
  });

  it('names the bad field', () => {
    const issues = (input: unknown): string[] => {
      const result = ringConfigSchema.safeParse(input);
      return result.success ? [] : result.error.issues.map((i) => i.path.join('.'));
    };
    expect(issues({ nodez: [] })).toEqual(['']);
    expect(issues({ nodes: ['ok:1', 'no-port'] })).toEqual(['nodes.1']);
    expect(issues({ nodes: ['ok:1'], dns: 'origin:1' })).toEqual(['dns']);
    expect(issues({ dns: 'origin' })).toEqual(['dns']);
    expect(issues({ replicas: 0 })).toEqual(['replicas']);
    expect(issues({ health: { active: { intervalMs: 5 } } })).toEqual(['health.active.intervalMs']);
    expect(issues({ health: { healthyThreshold: 0 } })).toEqual(['health.healthyThreshold']);
    expect(issues({ nodes: [{ address: 'a:1', weight: -1 }] })).toEqual(['nodes.0.weight']);
    expect(issues({ nodes: [{ address: 'a:1', extra: true }] })).toEqual(['nodes.0']);
  });

  it('lets a component default the probed path', () => {
    const schema = createRingConfigSchema({ healthPath: '/readiness' });
    expect(schema.parse({}).health.active.path).toBe('/readiness');
    expect(schema.parse({ health: { active: { path: '/health' } } }).health.active.path).toBe('/health');
    expect(ringConfigSchema.parse({}).health.active.path).toBe('/health');
  });
});
