import { describe, expect, it } from 'vitest';
import { bandwidthSchema, createBandwidthLimiters } from './bandwidth-config.js';
import { TokenBucketClosedError } from '../errors.js';

describe('bandwidth config', () => {
  it('defaults to unlimited in both directions', () => {
    const limiters = createBandwidthLimiters(bandwidthSchema.parse(undefined));
    expect(limiters.ingress.unlimited).toBe(true);
    expect(limiters.egress.unlimited).toBe(true);
  });

  it('builds one bucket per direction with the shared burst and queue bound', async () => {
    const config = bandwidthSchema.parse({
      ingressBytesPerSecond: 1000,
      egressBytesPerSecond: 10,
      maxWaiters: 1,
    });
    const { ingress, egress, close } = createBandwidthLimiters(config);
    expect([ingress.rate, ingress.burst]).toEqual([1000, 1000]);
    expect([egress.rate, egress.burst]).toEqual([10, 10]);
    const withBurst = createBandwidthLimiters(
      bandwidthSchema.parse({ egressBytesPerSecond: 10, burstBytes: 64 }),
    );
    expect(withBurst.egress.burst).toBe(64);
    expect(egress.tryTake(10)).toBe(true);
    const waiting = egress.take(5);
    close();
    await expect(waiting).rejects.toBeInstanceOf(TokenBucketClosedError);
    withBurst.close();
  });

  it('rejects unknown keys and negative rates', () => {
    expect(bandwidthSchema.safeParse({ ingressBytesPerSecond: -1 }).success).toBe(false);
    expect(bandwidthSchema.safeParse({ rate: 5 }).success).toBe(false);
  });
});
