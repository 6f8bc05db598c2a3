import type { Clock } from '@kraken/foundation';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { createThrottle } from './bandwidth-throttle.js';
import { TokenBucketClosedError, TokenQueueFullError } from '../errors.js';
import { createTokenBucket } from './token-bucket.js';

interface FakeClock extends Clock {
  advance(ms: number): Promise<void>;
  readonly timers: number;
}

/** Manual clock: timers fire only when the test advances time. */
function fakeClock(): FakeClock {
  let now = 0;
  let nextId = 0;
  const timers = new Map<number, { at: number; callback: () => void }>();
  return {
    now: () => now,
    setTimeout(callback, ms) {
      const id = nextId++;
      timers.set(id, { at: now + ms, callback });
      return id;
    },
    clearTimeout(handle) {
      timers.delete(handle as number);
    },
    get timers() {
      return timers.size;
    },
    async advance(ms) {
      const end = now + ms;
      for (;;) {
        let due: [number, { at: number; callback: () => void }] | undefined;
        for (const entry of timers)
          if (entry[1].at <= end && (due === undefined || entry[1].at < due[1].at)) due = entry;
        if (due === undefined) break;
        timers.delete(due[0]);
        now = due[1].at;
        due[1].callback();
        await flush();
      }
      now = end;
      await flush();
    },
  };
}

/** Lets promise callbacks and stream ticks run; time itself stands still. */
async function flush(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
}

function track(promise: Promise<void>): { done: boolean; error: unknown } {
  const state: { done: boolean; error: unknown } = { done: false, error: undefined };
  promise.then(
    () => (state.done = true),
    (err: unknown) => (state.error = err),
  );
  return state;
}

describe('token bucket', () => {
  it('is unlimited without a rate', async () => {
    const bucket = createTokenBucket();
    expect(bucket.unlimited).toBe(true);
    expect(bucket.tryTake(1e12)).toBe(true);
    await expect(bucket.take(1e12)).resolves.toBeUndefined();
    expect(createTokenBucket({ rate: 0 }).unlimited).toBe(true);
  });

  it('grants the burst at once, then limits to the rate over simulated time', async () => {
    const clock = fakeClock();
    const bucket = createTokenBucket({ rate: 1000, burst: 500, clock });
    expect(bucket.tryTake(500)).toBe(true);
    expect(bucket.tryTake(1)).toBe(false);

    let granted = 0;
    const loop = (async () => {
      for (let i = 0; i < 20; i++) {
        await bucket.take(100);
        granted += 100;
      }
    })();
    await clock.advance(1000);
    // 1000 bytes/s for one second, nothing more even though takers keep asking.
    expect(granted).toBe(1000);
    await clock.advance(1000);
    expect(granted).toBe(2000);
    await loop;
  });

  it('caps accumulation at the burst while idle', async () => {
    const clock = fakeClock();
    const bucket = createTokenBucket({ rate: 100, burst: 200, clock });
    await clock.advance(60_000);
    expect(bucket.tryTake(200)).toBe(true);
    expect(bucket.tryTake(1)).toBe(false);
  });

  it('serves waiters in arrival order and keeps tryTake from jumping the queue', async () => {
    const clock = fakeClock();
    const bucket = createTokenBucket({ rate: 100, burst: 100, clock });
    bucket.tryTake(100);
    const order: string[] = [];
    const big = bucket.take(80).then(() => order.push('big'));
    const small = bucket.take(10).then(() => order.push('small'));
    // 80 bytes at 100 bytes/s take 800 ms; the small request waits behind them.
    await clock.advance(799);
    expect(bucket.tryTake(1)).toBe(false);
    expect(order).toEqual([]);
    await clock.advance(100);
    expect(order).toEqual(['big']);
    await clock.advance(1);
    await Promise.all([big, small]);
    expect(order).toEqual(['big', 'small']);
  });

  it('grants a request larger than the burst once full, leaving debt', async () => {
    const clock = fakeClock();
    const bucket = createTokenBucket({ rate: 100, burst: 100, clock });
    await expect(bucket.take(300)).resolves.toBeUndefined();
    const next = track(bucket.take(100));
    await clock.advance(2999);
    expect(next.done).toBe(false);
    await clock.advance(1);
    expect(next.done).toBe(true);
  });

  it('rejects an aborted waiter and lets the next one go', async () => {
    const clock = fakeClock();
    const bucket = createTokenBucket({ rate: 100, burst: 100, clock });
    bucket.tryTake(100);
    const controller = new AbortController();
    const first = track(bucket.take(100, { signal: controller.signal }));
    const second = track(bucket.take(1));
    await clock.advance(10);
    expect(second.done).toBe(false);
    controller.abort(new Error('peer gone'));
    await flush();
    expect((first.error as Error).message).toBe('peer gone');
    expect(second.done).toBe(true);
    expect(bucket.waiting).toBe(0);
    await expect(bucket.take(1, { signal: AbortSignal.abort(new Error('already')) })).rejects.toThrow(
      'already',
    );
  });

  it('bounds the wait queue with a typed error', async () => {
    const clock = fakeClock();
    const bucket = createTokenBucket({ rate: 10, burst: 10, maxQueue: 2, clock });
    bucket.tryTake(10);
    const a = track(bucket.take(1));
    const b = track(bucket.take(1));
    await expect(bucket.take(1)).rejects.toBeInstanceOf(TokenQueueFullError);
    expect(bucket.waiting).toBe(2);
    await clock.advance(200);
    expect(a.done && b.done).toBe(true);
  });

  it('close rejects waiters, clears the timer and is idempotent', async () => {
    const clock = fakeClock();
    const bucket = createTokenBucket({ rate: 10, burst: 10, clock });
    bucket.tryTake(10);
    const waiter = track(bucket.take(5));
    expect(clock.timers).toBe(1);
    bucket.close();
    bucket.close();
    await flush();
    expect(waiter.error).toBeInstanceOf(TokenBucketClosedError);
    expect(clock.timers).toBe(0);
    await expect(bucket.take(1)).rejects.toBeInstanceOf(TokenBucketClosedError);
    expect(bucket.tryTake(1)).toBe(false);
  });

  it('grants zero tokens at once, even in debt', async () => {
    const bucket = createTokenBucket({ rate: 10, burst: 10, clock: fakeClock() });
    await bucket.take(100);
    expect(bucket.tryTake(0)).toBe(true);
    await expect(bucket.take(0)).resolves.toBeUndefined();
  });

  it('rejects invalid settings and counts', async () => {
    expect(() => createTokenBucket({ rate: -1 })).toThrow(RangeError);
    expect(() => createTokenBucket({ rate: 10, burst: 0 })).toThrow(RangeError);
    expect(() => createTokenBucket({ maxQueue: 1.5 })).toThrow(RangeError);
    await expect(createTokenBucket().take(-1)).rejects.toThrow(RangeError);
  });
});

describe('throttle stream', () => {
  it('passes bytes at the bucket rate, in order', async () => {
    const clock = fakeClock();
    const bucket = createTokenBucket({ rate: 1000, burst: 100, clock });
    const received: Buffer[] = [];
    const input = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 251));
    const done = pipeline(
      Readable.from([input.subarray(0, 700), input.subarray(700)]),
      createThrottle(bucket),
      new Writable({
        write(chunk: Buffer, _enc, callback) {
          received.push(chunk);
          callback();
        },
      }),
    );
    await flush();
    await clock.advance(500);
    // The first 100 came from the burst, the rest at 1000 bytes/s.
    expect(Buffer.concat(received).byteLength).toBe(600);
    await clock.advance(400);
    await done;
    expect(Buffer.concat(received).equals(input)).toBe(true);
    expect(received.every((chunk) => chunk.byteLength <= 100)).toBe(true);
  });

  it('fails on abort while waiting and leaves no waiter behind', async () => {
    const clock = fakeClock();
    const bucket = createTokenBucket({ rate: 10, burst: 10, clock });
    const controller = new AbortController();
    const throttle = createThrottle(bucket, { signal: controller.signal });
    const done = pipeline(
      Readable.from([Buffer.alloc(50)]),
      throttle,
      new Writable({ write: (_c, _e, cb) => cb() }),
    );
    await flush();
    expect(bucket.waiting).toBe(1);
    controller.abort(new Error('stop'));
    await expect(done).rejects.toThrow('stop');
    expect(bucket.waiting).toBe(0);
  });

  it('releases its waiter when destroyed mid-wait', async () => {
    const clock = fakeClock();
    const bucket = createTokenBucket({ rate: 10, burst: 10, clock });
    bucket.tryTake(10);
    const throttle = createThrottle(bucket);
    throttle.on('error', () => undefined);
    throttle.write(Buffer.alloc(5));
    await flush();
    expect(bucket.waiting).toBe(1);
    throttle.destroy();
    await flush();
    expect(bucket.waiting).toBe(0);
    expect(bucket.tryTake(1)).toBe(false);
    await clock.advance(100);
    expect(bucket.tryTake(1)).toBe(true);
  });

  it('is a plain pass-through when unlimited', async () => {
    const chunks: Buffer[] = [];
    await pipeline(
      Readable.from([Buffer.from('abc'), Buffer.from('def')]),
      createThrottle(createTokenBucket()),
      new Writable({
        write(chunk: Buffer, _enc, callback) {
          chunks.push(chunk);
          callback();
        },
      }),
    );
    expect(Buffer.concat(chunks).toString()).toBe('abcdef');
  });
});
