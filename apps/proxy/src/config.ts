/** Configuration of the proxy binary, assembled from the libs' schemas. */
import { z } from 'zod';
import { registryApiConfigSchema } from '@kraken/registry-api';
import { listenSchema, loggingSchema, tracingSchema } from '@kraken/service-kit';

export const configSchema = z
  .object({
    listen: listenSchema(15000),
    registry: registryApiConfigSchema,
    origin: z
      .object({ url: z.string().url().default('http://127.0.0.1:15002').describe('Base URL of an origin.') })
      .strict()
      .prefault({})
      .describe('Where blobs and manifests are written.'),
    buildIndex: z
      .object({
        url: z.string().url().default('http://127.0.0.1:15004').describe('Base URL of a build-index.'),
      })
      .strict()
      .prefault({})
      .describe('Where tags and repository membership are written.'),
    logging: loggingSchema,
    tracing: tracingSchema,
  })
  .strict();

export type Config = z.output<typeof configSchema>;
