import { afterEach, describe, expect, it, vi } from 'vitest';
import { createAnnounceTimers } from './announce-timers.js';

afterEach(() => {
  vi.useRealTimers();
});

const fakeClock = () => ({
  now: () => Date.now(),
  setTimeout: (cb: () => void, ms: number) => setTimeout(cb, ms),
  clearTimeout: (h: unknown) => clearTimeout(h as NodeJS.Timeout),
});

describe('announce timers', () => {
  it("puts a node's blobs on one tick of the interval's grid, whenever each was scheduled", () => {
    vi.useFakeTimers({ now: 0 });
    const due: [string, number][] = [];
    // Phase 250 ms: ticks at 250, 1250, 2250, ...
    const timers = createAnnounceTimers({
      intervalMs: 1000,
      random: () => 0.25,
      timers: fakeClock(),
      onDue: (blob) => due.push([blob, Date.now()]),
    });
    timers.schedule('a'); // the first tick at least 500 ms away: 1250
    vi.advanceTimersByTime(300);
    timers.schedule('b'); // at 300: 1250 too
    timers.schedule('c', { immediately: true });
    vi.advanceTimersByTime(0);
    expect(due).toEqual([['c', 300]]);
    vi.advanceTimersByTime(400);
    timers.schedule('c'); // at 700: 1250 is only 550 ms away, still half an interval
    vi.advanceTimersByTime(100);
    timers.schedule('d'); // at 800: 1250 is 450 ms away, so 2250
    vi.advanceTimersByTime(450);
    expect(due.slice(1)).toEqual([
      ['a', 1250],
      ['b', 1250],
      ['c', 1250],
    ]);
    timers.schedule('a');
    vi.advanceTimersByTime(1000);
    expect(due.slice(4)).toEqual([
      ['d', 2250],
      ['a', 2250],
    ]);
    expect(timers.size).toBe(0);
  });

  it('keeps the grid for an interval the tracker changed', () => {
    vi.useFakeTimers({ now: 0 });
    const due: number[] = [];
    const timers = createAnnounceTimers({
      intervalMs: 1000,
      random: () => 0.5,
      timers: fakeClock(),
      onDue: () => due.push(Date.now()),
    });
    timers.schedule('a', { intervalMs: 3000 }); // ticks at 500 + 3000k: the first ≥ 1500 is 3500
    timers.schedule('b', { intervalMs: 3000 });
    vi.advanceTimersByTime(3500);
    expect(due).toEqual([3500, 3500]);
  });

  it('spreads nodes over the interval by their phase', () => {
    vi.useFakeTimers({ now: 0 });
    const firsts = [0, 0.5, 0.99].map((r) => {
      let at = -1;
      const timers = createAnnounceTimers({
        intervalMs: 1000,
        random: () => r,
        timers: fakeClock(),
        onDue: () => (at = Date.now()),
      });
      timers.schedule('a');
      vi.advanceTimersByTime(2000);
      vi.setSystemTime(0);
      return at;
    });
    expect(firsts).toEqual([1000, 500, 990]);
  });

  it('reschedules instead of stacking timers, and cancels on close', () => {
    vi.useFakeTimers();
    const due: string[] = [];
    const timers = createAnnounceTimers({
      intervalMs: 100,
      timers: fakeClock(),
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
