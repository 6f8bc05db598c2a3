/**
 * Config of an origin's replication: its own name on the ring, how many copies an
 * upload needs before it is acknowledged, and how the re-replication sweep runs.
 */
import { z } from 'zod';

export const originReplicationSchema = z
  .object({
    self: z
      .string()
      .min(1)
      .optional()
      .describe(
        'This origin as the ring lists it ("host:port"). Default: the listen address; set it when listening on 0.0.0.0.',
      ),
    writeQuorum: z
      .number()
      .int()
      .min(1)
      .default(2)
      .describe(
        'Copies (this one included) that must be stored before an upload is acknowledged; capped at the ring replicas and members. Every reachable owner gets its copy before the answer either way; the sweep copies the rest.',
      ),
    concurrency: z
      .number()
      .int()
      .min(1)
      .max(64)
      .default(4)
      .describe('Blobs the sweep checks and copies at once.'),
    sweepIntervalSeconds: z
      .number()
      .positive()
      .default(600)
      .describe('Seconds between periodic sweeps that bring every local blob back to its replica count.'),
    changeDelayMs: z
      .number()
      .int()
      .min(0)
      .default(2_000)
      .describe(
        'Delay of the sweep after the ring changed (a member joined, left or recovered), so that changes close together cause one sweep.',
      ),
    retryDelayMs: z
      .number()
      .int()
      .min(0)
      .default(15_000)
      .describe('Delay of the next sweep after a copy failed or an owner was unreachable (ms).'),
  })
  .strict()
  .prefault({})
  .describe('Copies of each blob on its other owners in the origin ring.');

export type OriginReplicationConfig = z.output<typeof originReplicationSchema>;
