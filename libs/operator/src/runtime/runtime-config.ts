/**
 * Config blocks of the controller runtime, for the operator app's schema: the work
 * queue of each controller and leader election.
 */
import { z } from 'zod';

export const workQueueConfigSchema = z
  .object({
    concurrency: z
      .number()
      .int()
      .min(1)
      .max(64)
      .default(2)
      .describe('Keys one controller reconciles at the same time (never the same key twice).'),
    backoffBaseMs: z
      .number()
      .int()
      .min(1)
      .default(100)
      .describe('Delay before the first retry of a failed reconcile (ms); doubled per failure of the key.'),
    backoffMaxMs: z
      .number()
      .int()
      .min(1)
      .default(60_000)
      .describe('Upper bound of the retry delay of a failing key (ms).'),
  })
  .strict()
  .refine((c) => c.backoffBaseMs <= c.backoffMaxMs, { message: 'backoffBaseMs must not exceed backoffMaxMs' })
  .prefault({})
  .describe('Work queue of each controller: concurrency and retry backoff.');

export const leaderElectionConfigSchema = z
  .object({
    enabled: z
      .boolean()
      .default(true)
      .describe('Compete for a Lease and reconcile only while holding it (off: reconcile at once).'),
    leaseName: z
      .string()
      .min(1)
      .default('kraken-operator')
      .describe('Name of the coordination.k8s.io Lease.'),
    leaseNamespace: z
      .string()
      .min(1)
      .optional()
      .describe("Namespace of the Lease; the operator's own namespace when omitted."),
    leaseDurationMs: z
      .number()
      .int()
      .min(1000)
      .default(15_000)
      .describe('How long a Lease that is not renewed stays with its holder (ms).'),
    renewDeadlineMs: z
      .number()
      .int()
      .min(1)
      .default(10_000)
      .describe('How long the leader keeps failing to renew before it stops reconciling and exits (ms).'),
    retryPeriodMs: z
      .number()
      .int()
      .min(1)
      .default(2_000)
      .describe('Interval of acquire and renew attempts (ms).'),
  })
  .strict()
  .refine((c) => c.retryPeriodMs < c.renewDeadlineMs && c.renewDeadlineMs < c.leaseDurationMs, {
    message: 'leader election needs retryPeriodMs < renewDeadlineMs < leaseDurationMs',
  })
  .prefault({})
  .describe('Leader election through a Lease, so that one operator replica reconciles at a time.');

export type WorkQueueConfig = z.output<typeof workQueueConfigSchema>;
export type LeaderElectionConfig = z.output<typeof leaderElectionConfigSchema>;
