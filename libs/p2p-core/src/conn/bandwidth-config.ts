/**
 * Bandwidth limits of one agent: a token bucket for what it receives from peers and
 * one for what it serves, each shared by every connection and blob.
 */
import type { Clock } from '@kraken/foundation';
import { z } from 'zod';
import { createTokenBucket, type TokenBucket } from './token-bucket.js';

export const bandwidthSchema = z
  .object({
    ingressBytesPerSecond: z
      .number()
      .int()
      .min(0)
      .default(0)
      .describe('Limit on piece bytes received from peers, in bytes per second; 0 means unlimited.'),
    egressBytesPerSecond: z
      .number()
      .int()
      .min(0)
      .default(0)
      .describe('Limit on piece bytes served to peers, in bytes per second; 0 means unlimited.'),
    burstBytes: z
      .number()
      .int()
      .min(0)
      .default(0)
      .describe('Bytes either direction may use at once after being idle; 0 means one second of its rate.'),
    maxWaiters: z
      .number()
      .int()
      .min(1)
      .default(1024)
      .describe('Transfers that may wait for bandwidth at once per direction; more fail fast.'),
  })
  .strict()
  .prefault({})
  .describe('P2P bandwidth limits (token buckets).');

export type BandwidthConfig = z.output<typeof bandwidthSchema>;

export interface BandwidthLimiters {
  readonly ingress: TokenBucket;
  readonly egress: TokenBucket;
  /** Closes both buckets, failing their waiters. */
  close(): void;
}

export function createBandwidthLimiters(
  config: BandwidthConfig,
  options: { clock?: Clock | undefined } = {},
): BandwidthLimiters {
  const bucket = (rate: number) =>
    createTokenBucket({
      rate,
      burst: config.burstBytes === 0 ? undefined : config.burstBytes,
      maxQueue: config.maxWaiters,
      clock: options.clock,
    });
  const ingress = bucket(config.ingressBytesPerSecond);
  const egress = bucket(config.egressBytesPerSecond);
  return {
    ingress,
    egress,
    close() {
      ingress.close();
      egress.close();
    },
  };
}
