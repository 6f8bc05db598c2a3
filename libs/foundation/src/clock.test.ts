import { describe, expect, it } from 'vitest';
import { sleep, systemClock } from './clock.js';
import { createManualClock } from './testing/manual-clock.js';

describe('manual clock', () => {
  it('fires due timers in due order, then creation order, and moves now', async () => {
    const clock = createManualClock(100);
    const fired: string[] = [];
    clock.setTimeout(() => fired.push('b@20'), 20);
    clock.setTimeout(() => fired.push('a@10'), 10);
    clock.setTimeout(() => fired.push('c@20'), 20);
    const cleared = clock.setTimeout(() => fired.push('never'), 5);
    clock.clearTimeout(cleared);
    expect(clock.pending()).toBe(3);
    await clock.advance(15);
    expect(fired).toEqual(['a@10']);
    expect(clock.now()).toBe(115);
    await clock.advance(5);
    expect(fired).toEqual(['a@10', 'b@20', 'c@20']);
    expect(clock.pending()).toBe(0);
  });

  it('fires timers that a firing timer sets within the same advance', async () => {
    const clock = createManualClock();
    const fired: number[] = [];
    clock.setTimeout(() => {
      fired.push(clock.now());
      clock.setTimeout(() => fired.push(clock.now()), 10);
    }, 10);
    await clock.advance(30);
    expect(fired).toEqual([10, 20]);
  });
});

describe('sleep', () => {
  it('resolves when the clock reaches the delay', async () => {
    const clock = createManualClock();
    let done = false;
    const slept = sleep(clock, 50).then(() => (done = true));
    await clock.advance(49);
    expect(done).toBe(false);
    await clock.advance(1);
    await slept;
    expect(done).toBe(true);
  });

  it('rejects with the abort reason and clears its timer', async () => {
    const clock = createManualClock();
    const controller = new AbortController();
    const slept = sleep(clock, 50, controller.signal);
    controller.abort(new Error('stop'));
    await expect(slept).rejects.toThrow('stop');
    expect(clock.pending()).toBe(0);
    await expect(sleep(clock, 1, controller.signal)).rejects.toThrow('stop');
  });

  it('systemClock timers are unref’d and measure monotonic time', async () => {
    const handle = systemClock.setTimeout(() => {}, 60_000) as NodeJS.Timeout;
    expect(handle.hasRef()).toBe(false);
    systemClock.clearTimeout(handle);
    const before = systemClock.now();
    await sleep(systemClock, 5);
    expect(systemClock.now()).toBeGreaterThanOrEqual(before + 4);
  });
});
