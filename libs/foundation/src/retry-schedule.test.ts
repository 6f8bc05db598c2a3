import { describe, expect, it } from 'vitest';
import { backoffDelay, createDueTimer } from './retry-schedule.js';
import { createManualClock } from './testing/manual-clock.js';

const policy = { initialMs: 100, maxMs: 1000, multiplier: 2, jitter: 0.5 };

describe('backoffDelay', () => {
  it('grows by the multiplier, is capped, and loses up to `jitter` of itself at random', () => {
    expect([1, 2, 3, 4, 5].map((n) => backoffDelay(policy, n, () => 0))).toEqual([100, 200, 400, 800, 1000]);
    expect(backoffDelay(policy, 3, () => 0.5)).toBe(300);
    expect(backoffDelay(policy, 0, () => 0)).toBe(100);
  });
});

describe('createDueTimer', () => {
  it('fires once at the time set, re-arms only when the time changes, and disarms', async () => {
    const clock = createManualClock();
    let fired = 0;
    const timer = createDueTimer(clock, () => fired++);
    timer.set(50);
    timer.set(50);
    expect(clock.pending()).toBe(1);
    timer.set(30);
    expect(clock.pending()).toBe(1);
    await clock.advance(30);
    expect(fired).toBe(1);
    expect(timer.at).toBeUndefined();
    timer.set(100);
    timer.set(undefined);
    await clock.advance(100);
    expect(fired).toBe(1);
    expect(clock.pending()).toBe(0);
  });
});
