import { describe, expect, it } from 'vitest';
import { findCondition, formatKubeTime, setCondition, type ConditionLike } from './conditions.js';
import { replacingMergePatch, statusEqual } from './status-patch.js';

const t0 = new Date('2030-01-01T00:00:00.250Z');
const t1 = new Date('2030-01-01T00:05:00Z');

describe('setCondition', () => {
  it('appends a new condition with the transition time now, in whole seconds', () => {
    const list = setCondition<ConditionLike>(
      undefined,
      { type: 'Ready', status: 'False', reason: 'Starting' },
      t0,
    );
    expect(list).toEqual([
      { type: 'Ready', status: 'False', reason: 'Starting', lastTransitionTime: '2030-01-01T00:00:00Z' },
    ]);
  });

  it('keeps lastTransitionTime when the status is unchanged, and moves it when it changes', () => {
    const first = setCondition<ConditionLike>([], { type: 'Ready', status: 'False', reason: 'Starting' }, t0);
    const same = setCondition(
      first,
      { type: 'Ready', status: 'False', reason: 'StillStarting', message: 'x' },
      t1,
    );
    expect(same).toEqual([
      {
        type: 'Ready',
        status: 'False',
        reason: 'StillStarting',
        message: 'x',
        lastTransitionTime: formatKubeTime(t0),
      },
    ]);
    const flipped = setCondition(same, { type: 'Ready', status: 'True', reason: 'Available' }, t1);
    expect(findCondition(flipped, 'Ready')).toEqual({
      type: 'Ready',
      status: 'True',
      reason: 'Available',
      lastTransitionTime: '2030-01-01T00:05:00Z',
    });
  });

  it('replaces in place, leaves other types alone and never mutates its input', () => {
    const input = Object.freeze([
      { type: 'Ready', status: 'True', lastTransitionTime: 'a' } as ConditionLike,
      { type: 'Degraded', status: 'False', lastTransitionTime: 'b' } as ConditionLike,
    ]);
    const out = setCondition(input, { type: 'Ready', status: 'False' }, t1);
    expect(out.map((c) => c.type)).toEqual(['Ready', 'Degraded']);
    expect(out[1]).toBe(input[1]);
    expect(input[0]?.status).toBe('True');
  });
});

describe('status change detection', () => {
  const status = {
    observedGeneration: 2,
    conditions: [
      { type: 'Ready', status: 'True', reason: 'Available', lastTransitionTime: '2030-01-01T00:00:00Z' },
    ],
    readyReplicas: { origin: 3 },
  };

  it('sees no change when only condition transition times differ', () => {
    const next = structuredClone(status);
    next.conditions[0]!.lastTransitionTime = '2031-01-01T00:00:00Z';
    expect(statusEqual(status, next)).toBe(true);
    expect(statusEqual(status, { ...structuredClone(status), extra: undefined })).toBe(true);
  });

  it('sees a change of a condition status, reason, count or generation', () => {
    const flipped = structuredClone(status);
    flipped.conditions[0]!.status = 'False';
    expect(statusEqual(status, flipped)).toBe(false);
    expect(statusEqual(status, { ...status, observedGeneration: 3 })).toBe(false);
    expect(statusEqual(status, { ...status, readyReplicas: { origin: 2 } })).toBe(false);
    expect(statusEqual(undefined, status)).toBe(false);
    expect(statusEqual(status, { ...status, conditions: [] })).toBe(false);
  });

  it('builds a merge patch that also removes the fields the new status dropped', () => {
    expect(
      replacingMergePatch(
        { a: 1, nested: { x: 1, y: 2 }, list: [1, 2], gone: 'x' },
        { a: 2, nested: { x: 1 }, list: [3] },
      ),
    ).toEqual({ a: 2, nested: { x: 1, y: null }, list: [3], gone: null });
    expect(replacingMergePatch(undefined, { a: 1 })).toEqual({ a: 1 });
  });
});
