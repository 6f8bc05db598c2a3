import { afterEach, describe, expect, it, vi } from 'vitest';
import { createAnnounceTimers } from './announce-timers.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('announce timers', () => {
  it('announces each blob on its own jittered timer', () => {
    vi.useFakeTimers();
    const due: string[] = [];
    const randoms = [0, 1];
    const timers = createAnnounceTimers({
      intervalMs: 1000,
      jitter: 0.2,
      random: () => randoms.shift() ?? 0.5,
      timers: {
        setTimeout: (cb, ms) => setTimeout(cb, ms),
        clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
      },
      onDue: (blob) => due.push(blob),
    });
    timers.schedule('a'); // 800 ms
    timers.schedule('b'); // 1200 ms
    timers.schedule('c', { immediately: true });
    vi.advanceTimersByTime(0);
    expect(due).toEqual(['c']);
    vi.advanceTimersByTime(800);
    expect(due).toEqual(['c', 'a']);
    vi.advanceTimersByTime(400);
    expect(due).toEqual(['c', 'a', 'b']);
    expect(timers.size).toBe(0);
  });

  it('reschedules instead of stacking timers, and cancels on close', () => {
    vi.useFakeTimers();
    const due: string[] = [];
    const timers = createAnnounceTimers({
      intervalMs: 100,
      jitter: 0,
      timers: {
        setTimeout: (cb, ms) => setTimeout(cb, ms),
        clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
      },
      onDue: (blob) => due.push(blob),
    });
    timers.schedule('a');
    timers.schedule('a', { intervalMs: 500 });
    vi.advanceTimersByTime(200);
    expect(due).toEqual([]);
    timers.close();
    vi.advanceTimersByTime(1000);
    expect(due).toEqual([]);
  });
});
