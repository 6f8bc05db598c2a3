import { describe, expect, it } from 'vitest';
import { firstDifference, isFieldSubset } from './field-subset.js';

const container = {
  name: 'origin',
  image: 'kraken:1',
  args: ['origin', '--config', '/etc/kraken/origin.yaml'],
  ports: [{ name: 'http', containerPort: 15001 }],
  resources: { requests: { cpu: '500m', memory: '1Gi' } },
};

const desired = {
  apiVersion: 'apps/v1',
  kind: 'StatefulSet',
  metadata: { name: 'origin', namespace: 'kraken', labels: { app: 'origin' } },
  spec: {
    replicas: 3,
    template: {
      spec: {
        containers: [container],
      },
    },
  },
};

/** What the API server returns: everything above, plus what it owns and defaults. */
const live = {
  ...desired,
  metadata: {
    ...desired.metadata,
    uid: 'u1',
    resourceVersion: '42',
    generation: 1,
    creationTimestamp: '2030-01-01T00:00:00Z',
    managedFields: [{ manager: 'kraken-operator' }],
  },
  spec: {
    ...desired.spec,
    podManagementPolicy: 'OrderedReady',
    template: {
      spec: {
        restartPolicy: 'Always',
        containers: [
          {
            ...container,
            ports: [{ name: 'http', containerPort: 15001, protocol: 'TCP' }],
            terminationMessagePath: '/dev/termination-log',
          },
        ],
      },
    },
  },
  status: { replicas: 3 },
};

const clone = <T>(v: T): T => structuredClone(v);

describe('field subset', () => {
  it('accepts a live object that holds every desired field plus its own and defaulted ones', () => {
    expect(isFieldSubset(desired, live)).toBe(true);
  });

  it('names the first desired field the live object changed or lost', () => {
    const edited = clone(live);
    edited.spec.replicas = 1;
    expect(firstDifference(desired, edited)).toBe('.spec.replicas');
    const image = clone(live);
    image.spec.template.spec.containers[0]!.image = 'kraken:0';
    expect(firstDifference(desired, image)).toBe('.spec.template.spec.containers[0].image');
    const label = clone(live);
    delete (label.metadata.labels as Partial<typeof label.metadata.labels>).app;
    expect(firstDifference(desired, label)).toBe('.metadata.labels.app');
  });

  it('compares lists element by element, in order and of equal length', () => {
    const reordered = clone(live);
    reordered.spec.template.spec.containers[0]!.args = ['--config', '/etc/kraken/origin.yaml', 'origin'];
    expect(firstDifference(desired, reordered)).toBe('.spec.template.spec.containers[0].args[0]');
    const added = clone(live);
    added.spec.template.spec.containers[0]!.args.push('--verbose');
    expect(firstDifference(desired, added)).toBe('.spec.template.spec.containers[0].args');
    const extraContainer = clone(live);
    extraContainer.spec.template.spec.containers.push({
      ...extraContainer.spec.template.spec.containers[0]!,
    });
    expect(isFieldSubset(desired, extraContainer)).toBe(false);
  });

  it('compares scalars strictly: a quantity the server normalised is a difference', () => {
    const normalised = clone(live);
    const d = clone(desired);
    d.spec.template.spec.containers[0]!.resources.requests.cpu = '1000m';
    normalised.spec.template.spec.containers[0]!.resources.requests.cpu = '1';
    expect(firstDifference(d, normalised)).toBe('.spec.template.spec.containers[0].resources.requests.cpu');
    expect(isFieldSubset({ port: 80 }, { port: '80' })).toBe(false);
  });

  it('lets desired zero values match fields the server omitted', () => {
    expect(
      isFieldSubset(
        { spec: { hostNetwork: false, paused: 0, name: '', args: [], resources: {} } },
        { spec: {} },
      ),
    ).toBe(true);
    expect(isFieldSubset({ spec: { securityContext: { runAsNonRoot: false } } }, { spec: {} })).toBe(true);
    expect(isFieldSubset({ spec: { securityContext: { runAsNonRoot: true } } }, { spec: {} })).toBe(false);
    expect(isFieldSubset({ spec: { hostNetwork: false } }, { spec: { hostNetwork: true } })).toBe(false);
    expect(isFieldSubset({ args: [] }, { args: ['x'] })).toBe(false);
  });

  it('treats a desired null as "absent" and skips top-level status', () => {
    expect(isFieldSubset({ a: null }, {})).toBe(true);
    expect(isFieldSubset({ a: null }, { a: 1 })).toBe(false);
    expect(isFieldSubset({ status: { ready: true } }, { status: { ready: false } })).toBe(true);
    expect(isFieldSubset({ spec: { status: 'x' } }, { spec: { status: 'y' } })).toBe(false);
  });

  it('finds a deleted object different from any desired one', () => {
    expect(isFieldSubset(desired, undefined)).toBe(false);
    expect(isFieldSubset({ a: { b: 1 } }, { a: [1] })).toBe(false);
    expect(isFieldSubset({ a: [1] }, { a: { 0: 1 } })).toBe(false);
  });
});
