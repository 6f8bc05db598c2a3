import { describe, expect, it } from 'vitest';
import type { ReplicationStatus, RuleStatus } from '@kraken/build-index';
import { InvalidSpecError } from '../../errors.js';
import { replicationRule } from '../../testing/kraken-cluster-fixtures.js';
import type { ReplicationRuleSpecInput } from './replication-rule-types.js';
import {
  buildIndexRuleName,
  isOperatorRuleName,
  parseReplicationRuleSpec,
  replicationRuleStatus,
  toBuildIndexRule,
} from './replication-rule-mapping.js';

function fieldsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidSpecError);
    return (err as InvalidSpecError).issues.map((i) => i.field);
  }
  return [];
}

const resolved = {
  buildIndex: ['http://kraken-eu-build-index-0.kraken-eu-build-index-headless.registry.svc:15004'],
  origins: { nodes: ['http://kraken-eu-origin-0.kraken-eu-origin-headless.registry.svc:15002'], replicas: 2 },
};

describe('ReplicationRule spec', () => {
  it('refuses a bad regular expression, naming the field', () => {
    expect(fieldsOf(() => parseReplicationRuleSpec(replicationRule({ repositories: 'team/(' })))).toEqual([
      'spec.repositories',
    ]);
    expect(fieldsOf(() => parseReplicationRuleSpec(replicationRule({ tags: '[' })))).toEqual(['spec.tags']);
  });

  it('refuses an unknown field and a destination given two ways', () => {
    expect(
      fieldsOf(() =>
        parseReplicationRuleSpec(
          replicationRule({ tls: {} } as unknown as Partial<ReplicationRuleSpecInput>),
        ),
      ),
    ).toEqual(['spec.tls']);
    expect(
      fieldsOf(() =>
        parseReplicationRuleSpec(
          replicationRule({ destination: { discover: 'https://bi.example.com', cluster: { name: 'eu' } } }),
        ),
      ),
    ).toEqual(['spec.destination']);
    expect(
      fieldsOf(() =>
        parseReplicationRuleSpec(
          replicationRule({ destination: { buildIndex: ['https://bi.example.com'] } }),
        ),
      ),
    ).toEqual(['spec.destination.origins']);
  });
});

describe('toBuildIndexRule', () => {
  it('is the build-index API body, named rr-<name>', () => {
    expect(toBuildIndexRule(replicationRule({ tags: 'v.*', deletes: true }))).toEqual({
      name: 'rr-to-eu',
      repositories: 'team/.*',
      tags: 'v.*',
      destination: { discover: 'https://build-index.eu.example.com:15004' },
      deletes: true,
      bandwidthBytesPerSecond: 0,
      enabled: true,
    });
    expect(isOperatorRuleName('rr-to-eu')).toBe(true);
    expect(isOperatorRuleName('by-hand')).toBe(false);
  });

  it('passes explicit remote addresses through', () => {
    const destination = {
      buildIndex: ['https://bi-0.eu.example.com:15004'],
      origins: { nodes: ['origin-0.eu.example.com:15002', 'origin-1.eu.example.com:15002'], replicas: 2 },
    };
    expect(toBuildIndexRule(replicationRule({ destination })).destination).toEqual(destination);
  });

  it('fills a KrakenCluster destination with its resolved addresses', () => {
    const rule = replicationRule({ destination: { cluster: { name: 'kraken-eu' } } });
    expect(toBuildIndexRule(rule, resolved).destination).toEqual(resolved);
    expect(fieldsOf(() => toBuildIndexRule(rule))).toEqual(['spec.destination.cluster']);
    const self = replicationRule({ destination: { cluster: { name: 'kraken' } } });
    expect(fieldsOf(() => toBuildIndexRule(self, resolved))).toEqual(['spec.destination.cluster']);
    const elsewhere = replicationRule({ destination: { cluster: { name: 'kraken', namespace: 'other' } } });
    expect(toBuildIndexRule(elsewhere, resolved).destination).toEqual(resolved);
  });

  it('refuses a name the build-index cannot hold', () => {
    expect(fieldsOf(() => buildIndexRuleName(replicationRule({}, 'x'.repeat(61))))).toEqual([
      'metadata.name',
    ]);
    expect(fieldsOf(() => buildIndexRuleName(replicationRule({}, 'to.eu')))).toEqual(['metadata.name']);
    expect(buildIndexRuleName(replicationRule({}, 'x'.repeat(60)))).toBe(`rr-${'x'.repeat(60)}`);
  });
});

function ruleStatus(overrides: Partial<RuleStatus>): RuleStatus {
  return {
    rule: 'rr-to-eu',
    source: 'api',
    enabled: true,
    destination: { key: 'discover:x', clusterId: 'eu', buildIndex: [], origins: null },
    pending: 0,
    inFlight: 0,
    done: 10,
    skipped: 0,
    failed: 0,
    bytesCopied: 0,
    lastError: null,
    lagSeconds: 0,
    lastDoneAt: null,
    backfill: {
      running: false,
      lastStartedAt: null,
      lastFinishedAt: null,
      lastEnqueued: null,
      lastError: null,
    },
    ...overrides,
  };
}

const node = (...rules: RuleStatus[]): ReplicationStatus => ({ clusterId: 'us', node: 'http://bi-0', rules });
const now = new Date('2025-01-02T03:04:05.678Z');

describe('replicationRuleStatus', () => {
  it('sums the nodes: pending, failures, the largest lag and the latest error', () => {
    const status = replicationRuleStatus({
      rule: replicationRule(),
      now,
      nodes: [
        node(
          ruleStatus({
            pending: 2,
            failed: 1,
            lagSeconds: 12.2,
            lastError: {
              message: 'connection refused',
              at: '2025-01-02T03:00:00.000Z',
              repository: 'team/a',
              tag: 'v1',
            },
          }),
        ),
        node(
          ruleStatus({
            pending: 1,
            inFlight: 1,
            failed: 2,
            lagSeconds: 30.5,
            lastError: {
              message: 'timeout',
              at: '2025-01-02T03:04:00.000Z',
              repository: 'team/b',
              tag: 'v2',
            },
          }),
          ruleStatus({ rule: 'rr-other', pending: 100 }),
        ),
      ],
    });
    expect(status).toMatchObject({
      observedGeneration: 2,
      pending: 3,
      inFlight: 1,
      failed: 3,
      lagSeconds: 31,
      lastError: { message: 'timeout', repository: 'team/b', tag: 'v2' },
      destinationClusterId: 'eu',
    });
    const byType = Object.fromEntries(status.conditions.map((c) => [c.type, c]));
    expect(byType.Ready).toMatchObject({
      status: 'False',
      reason: 'ReplicationFailing',
      observedGeneration: 2,
    });
    expect(byType.Progressing).toMatchObject({ status: 'True', reason: 'Backlog' });
    expect(byType.Degraded).toMatchObject({
      status: 'True',
      reason: 'ReplicationFailing',
      message: 'team/b:v2: timeout',
    });
    expect(byType.Ready?.lastTransitionTime).toBe('2025-01-02T03:04:05Z');
  });

  it('is Ready and up to date when nothing waits, keeping transition times', () => {
    const first = replicationRuleStatus({ rule: replicationRule(), now, nodes: [node(ruleStatus({}))] });
    const later = new Date(now.getTime() + 60_000);
    const second = replicationRuleStatus({
      rule: { ...replicationRule(), status: first },
      now: later,
      nodes: [node(ruleStatus({}))],
    });
    expect(second.conditions.map((c) => [c.type, c.status, c.reason, c.lastTransitionTime])).toEqual([
      ['Ready', 'True', 'Replicating', '2025-01-02T03:04:05Z'],
      ['Progressing', 'False', 'UpToDate', '2025-01-02T03:04:05Z'],
      ['Degraded', 'False', 'AsExpected', '2025-01-02T03:04:05Z'],
    ]);
  });

  it('says when no node applies the rule yet, or it is disabled', () => {
    const missing = replicationRuleStatus({ rule: replicationRule(), now, nodes: [node()] });
    expect(missing.conditions[0]).toMatchObject({ type: 'Ready', status: 'False', reason: 'RuleNotApplied' });
    const disabled = replicationRuleStatus({
      rule: replicationRule({ enabled: false }),
      now,
      nodes: [node(ruleStatus({ enabled: false }))],
    });
    expect(disabled.conditions[0]).toMatchObject({ type: 'Ready', status: 'False', reason: 'RuleDisabled' });
  });
});
