/**
 * Configuration of the origin binary, assembled from the libs' schemas. Every key has
 * a default that works in the devcluster (first origin, data under .devcluster/).
 */
import { z } from 'zod';
import { originLimitsSchema } from '@kraken/internal-api';
import { listenSchema, loggingSchema, tracingSchema } from '@kraken/service-kit';
import { storageBackendSchema } from '@kraken/storage-backends';

export const configSchema = z
  .object({
    listen: listenSchema(15002),
    storage: storageBackendSchema({ defaultRoot: './.devcluster/origin-0/store' }),
    uploads: z
      .object({
        dir: z
          .string()
          .min(1)
          .default('./.devcluster/origin-0/uploads')
          .describe('Directory for chunked upload sessions; best on the same filesystem as the store.'),
      })
      .strict()
      .prefault({})
      .describe('Chunked upload sessions.'),
    limits: originLimitsSchema,
    logging: loggingSchema,
    tracing: tracingSchema,
  })
  .strict();

export type Config = z.output<typeof configSchema>;
