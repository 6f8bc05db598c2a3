/**
 * Config of the origin's local side of storage: the byte-bounded cache in front of
 * the backend and the durable write-back queue. Directories default per component
 * (the devcluster's first origin under .devcluster/origin-0/).
 */
import { z } from 'zod';

const GiB = 1024 ** 3;

export const originCacheSchema = (defaults: { dir: string }) =>
  z
    .object({
      dir: z
        .string()
        .min(1)
        .default(defaults.dir)
        .describe('Directory of the local blob cache; uploads should share its filesystem.'),
      maxBytes: z
        .number()
        .int()
        .min(0)
        .default(16 * GiB)
        .describe('Disk budget of the cache in bytes, counting only cached blobs; 0 means unbounded.'),
      highWatermark: z
        .number()
        .gt(0)
        .max(1)
        .default(0.9)
        .describe('Eviction starts once usage exceeds this fraction of maxBytes.'),
      lowWatermark: z
        .number()
        .gt(0)
        .max(1)
        .default(0.8)
        .describe('Eviction stops once usage is at or below this fraction of maxBytes.'),
    })
    .strict()
    .refine((c) => c.lowWatermark <= c.highWatermark, {
      message: 'lowWatermark must not exceed highWatermark',
      path: ['lowWatermark'],
    })
    .prefault({})
    .describe('Local cache of blobs; pinned blobs (pending write-back, being served) are never evicted.');

export const writeBackSchema = (defaults: { dbPath: string }) =>
  z
    .object({
      dbPath: z
        .string()
        .min(1)
        .default(defaults.dbPath)
        .describe('SQLite file of the durable write-back queue (WAL mode).'),
      concurrency: z.number().int().min(1).max(256).default(8).describe('Write-backs running at once.'),
      maxAttempts: z
        .number()
        .int()
        .min(1)
        .optional()
        .describe('Attempts before a job is kept as failed; absent, jobs retry forever.'),
      backoff: z
        .object({
          initialMs: z.number().int().min(1).default(1000).describe('Delay before the first retry (ms).'),
          maxMs: z.number().int().min(1).default(300_000).describe('Cap on any retry delay (ms).'),
          multiplier: z.number().min(1).default(2).describe('Growth of the delay per failed attempt.'),
          jitter: z
            .number()
            .min(0)
            .max(1)
            .default(0.2)
            .describe('Fraction of each delay taken off at random.'),
        })
        .strict()
        .prefault({})
        .describe('Exponential backoff between attempts.'),
    })
    .strict()
    .prefault({})
    .describe('Durable queue writing new blobs back to the storage backend.');

export type OriginCacheConfig = z.output<ReturnType<typeof originCacheSchema>>;
export type WriteBackConfig = z.output<ReturnType<typeof writeBackSchema>>;

/** ContentCache options of a parsed cache config: its high watermark is the eviction trigger. */
export function contentCacheLimits(config: OriginCacheConfig): { maxBytes: number; lowWatermark: number } {
  return {
    maxBytes: Math.floor(config.maxBytes * config.highWatermark),
    lowWatermark: config.lowWatermark / config.highWatermark,
  };
}
