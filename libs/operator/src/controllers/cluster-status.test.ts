import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../runtime/resource-kind.js';
import { clusterStatus, workloadState, type ComponentStates } from './cluster-status.js';

const now = new Date('2026-01-02T03:04:05Z');
const later = new Date('2026-01-02T03:09:05Z');
const cluster = { metadata: { name: 'c', namespace: 'n', generation: 3 } };

const sts = (spec: number, status: Record<string, unknown>, generation = 1): KubeObject =>
  ({
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: 's', generation },
    spec: { replicas: spec },
    status: { observedGeneration: generation, ...status },
  }) as KubeObject;

const ready = { ready: 1, desired: 1, rollingOut: false };
const all = (over: Partial<ComponentStates> = {}): ComponentStates => ({
  origin: ready,
  tracker: ready,
  'build-index': ready,
  proxy: ready,
  agent: ready,
  ...over,
});

describe('workloadState', () => {
  it('counts ready pods and sees a rollout until every pod runs the new revision', () => {
    expect(workloadState(sts(3, { readyReplicas: 3, updatedReplicas: 3, replicas: 3 }))).toEqual({
      ready: 3,
      desired: 3,
      rollingOut: false,
    });
    expect(
      workloadState(
        sts(3, {
          readyReplicas: 3,
          updatedReplicas: 1,
          replicas: 3,
          currentRevision: 'a',
          updateRevision: 'b',
        }),
      ).rollingOut,
    ).toBe(true);
  });
  it('sees a rollout while the workload controller has not observed the new generation', () => {
    const object = sts(3, { readyReplicas: 3, updatedReplicas: 3, replicas: 3, observedGeneration: 1 }, 2);
    expect(workloadState(object).rollingOut).toBe(true);
  });
  it('reads a DaemonSet by scheduled pods', () => {
    const ds = {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'a', generation: 1 },
      status: { observedGeneration: 1, desiredNumberScheduled: 5, numberReady: 4, updatedNumberScheduled: 5 },
    } as KubeObject;
    expect(workloadState(ds)).toEqual({ ready: 4, desired: 5, rollingOut: false });
  });
  it('has nothing ready for a workload not created yet', () => {
    expect(workloadState(undefined)).toEqual({ ready: 0, desired: 0, rollingOut: true });
  });
});

describe('clusterStatus', () => {
  it('is Ready with the observed generation when every component is', () => {
    const status = clusterStatus({ cluster, components: all(), degraded: undefined, now });
    expect(status.observedGeneration).toBe(3);
    expect(status.origins).toEqual({ ready: 1, desired: 1 });
    const byType = Object.fromEntries(status.conditions.map((c) => [c.type, c]));
    expect(byType.Ready).toMatchObject({
      status: 'True',
      reason: 'AllComponentsReady',
      observedGeneration: 3,
    });
    expect(byType.Progressing).toMatchObject({ status: 'False', reason: 'RolloutComplete' });
    expect(byType.Degraded).toMatchObject({ status: 'False', reason: 'AsExpected' });
  });
  it('names the components that are not ready and the ones rolling out', () => {
    const status = clusterStatus({
      cluster,
      components: all({ origin: { ready: 1, desired: 3, rollingOut: true } }),
      degraded: undefined,
      now,
    });
    const byType = Object.fromEntries(status.conditions.map((c) => [c.type, c]));
    expect(byType.Ready).toMatchObject({ status: 'False', message: 'not ready: origin 1/3' });
    expect(byType.Progressing).toMatchObject({ status: 'True', message: 'rolling out: origin' });
  });
  it('reports a degradation with its reason and keeps the transition time while nothing changes', () => {
    const degraded = {
      reason: 'SecretMissing' as const,
      message: 'spec.tls.secretName: Secret "x" not found in n',
    };
    const first = clusterStatus({ cluster, components: undefined, degraded, now });
    const again = clusterStatus({
      cluster: { ...cluster, status: first },
      components: undefined,
      degraded,
      now: later,
    });
    const degradedCondition = again.conditions.find((c) => c.type === 'Degraded');
    expect(degradedCondition).toMatchObject({
      status: 'True',
      reason: 'SecretMissing',
      message: degraded.message,
    });
    expect(degradedCondition?.lastTransitionTime).toBe('2026-01-02T03:04:05Z');
    expect(again.origins).toBeUndefined();
  });
});
