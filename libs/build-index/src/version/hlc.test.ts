import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createHybridClock } from './hlc.js';
import {
  MAX_COUNTER,
  compareVersions,
  formatVersion,
  legacyVersion,
  parseVersion,
  toNodeId,
  versionTime,
} from './tag-version.js';

const T = Date.parse('2030-01-02T03:04:05.000Z');
const FIVE_MINUTES = 5 * 60_000;

describe('versions', () => {
  it('are fixed-width hex fields and the ids, and parse back', () => {
    const text = formatVersion({ wallMs: T, counter: 7, clusterId: 'a', nodeId: '127-0-0-1-15004' });
    expect(text).toBe(`${T.toString(16).padStart(12, '0')}.000007.a.127-0-0-1-15004`);
    expect(parseVersion(text)).toEqual({ wallMs: T, counter: 7, clusterId: 'a', nodeId: '127-0-0-1-15004' });
    expect(versionTime(text)).toBe('2030-01-02T03:04:05.000Z');
    expect(() => parseVersion('yesterday')).toThrow(RangeError);
  });

  it('sort as strings in (wall, counter) order', () => {
    const part = fc.record({
      wallMs: fc.integer({ min: 0, max: 2 ** 47 }),
      counter: fc.integer({ min: 0, max: MAX_COUNTER }),
      clusterId: fc.constantFrom('a', 'b', 'a-b', 'zz'),
      nodeId: fc.constantFrom('', 'n1', 'n-2'),
    });
    fc.assert(
      fc.property(part, part, (x, y) => {
        const order = Math.sign(compareVersions(formatVersion(x), formatVersion(y)));
        // Antisymmetric and total.
        expect(Math.sign(compareVersions(formatVersion(y), formatVersion(x)))).toBe(-order);
        if (x.wallMs !== y.wallMs) expect(order).toBe(Math.sign(x.wallMs - y.wallMs));
        else if (x.counter !== y.counter) expect(order).toBe(Math.sign(x.counter - y.counter));
      }),
    );
  });

  it('of values stored before versions come from their time', () => {
    expect(legacyVersion('2030-01-02T03:04:05.000Z')).toBe(`${T.toString(16).padStart(12, '0')}.000000..`);
    expect(
      compareVersions(legacyVersion('2030-01-02T03:04:06Z'), legacyVersion('2030-01-02T03:04:05Z')),
    ).toBe(1);
    // A version written in the same millisecond by any node is newer than the legacy one.
    const clock = createHybridClock({ clusterId: 'a', nodeId: 'n', wallClock: () => T });
    expect(compareVersions(clock.next(), legacyVersion('2030-01-02T03:04:05.000Z'))).toBe(1);
  });

  it('name nodes with [a-z0-9-] only', () => {
    expect(toNodeId('http://Build-Index-0.kraken.svc:15004/')).toBe('build-index-0-kraken-svc-15004');
    expect(toNodeId('[::1]:15004')).toBe('1-15004');
  });
});

describe('hybrid logical clock', () => {
  it('issues strictly increasing versions while the wall clock stands still or goes back', () => {
    let wall = T;
    const clock = createHybridClock({ clusterId: 'a', nodeId: 'n', wallClock: () => wall });
    const issued = [clock.next(), clock.next()];
    wall -= 10_000;
    issued.push(clock.next(), clock.next());
    wall = T + 1;
    issued.push(clock.next());
    expect([...issued].sort(compareVersions)).toEqual(issued);
    expect(new Set(issued).size).toBe(issued.length);
    expect(parseVersion(issued[4]!)).toMatchObject({ wallMs: T + 1, counter: 0 });
  });

  it('borrows the next millisecond when the counter runs out', () => {
    const clock = createHybridClock({ clusterId: 'a', nodeId: 'n', wallClock: () => T });
    clock.observe(formatVersion({ wallMs: T, counter: MAX_COUNTER, clusterId: 'b', nodeId: '' }));
    expect(parseVersion(clock.next())).toMatchObject({ wallMs: T + 1, counter: 0 });
  });

  for (const skew of [FIVE_MINUTES, -FIVE_MINUTES]) {
    it(`makes a write that saw another win over it, with one clock ${skew / 60_000} minutes off`, () => {
      const a = createHybridClock({ clusterId: 'a', nodeId: 'a0', wallClock: () => T + skew });
      const b = createHybridClock({ clusterId: 'b', nodeId: 'b0', wallClock: () => T });
      // a writes v1; it reaches b; b writes v2 over it.
      const v1 = a.next();
      b.observe(v1);
      const v2 = b.next(v1);
      expect(compareVersions(v2, v1)).toBe(1);
      // And the other way round: b writes first, a (off by the skew) writes over it.
      const w1 = b.next();
      a.observe(w1);
      expect(compareVersions(a.next(w1), w1)).toBe(1);
    });
  }

  it('orders writes that did not see each other the same way everywhere', () => {
    const a = createHybridClock({ clusterId: 'a', nodeId: 'a0', wallClock: () => T });
    const b = createHybridClock({ clusterId: 'b', nodeId: 'b0', wallClock: () => T });
    const [x, y] = [a.next(), b.next()];
    // Same wall time and counter: the cluster id decides, on every node alike.
    expect(compareVersions(y, x)).toBe(1);
    expect(compareVersions(x, y)).toBe(-1);
  });

  it('is newer than a version it is told to follow, even one from the future', () => {
    const clock = createHybridClock({ clusterId: 'a', nodeId: 'n', wallClock: () => T });
    const future = formatVersion({ wallMs: T + 3_600_000, counter: 3, clusterId: 'z', nodeId: 'x' });
    const next = clock.next(future);
    expect(parseVersion(next)).toMatchObject({
      wallMs: T + 3_600_000,
      counter: 4,
      clusterId: 'a',
      nodeId: 'n',
    });
  });
});
