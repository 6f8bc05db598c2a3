/**
 * Configuration of the tracker binary, assembled from the libs' schemas. Every key
 * has a default that works in the devcluster (first tracker, first origin).
 */
import { z } from 'zod';
import { originRingSchema } from '@kraken/origin';
import { trackerConfigSchema as trackerSectionSchema } from '@kraken/tracker';
import { listenSchema, loggingSchema, tlsSchema, tracingSchema } from '@kraken/service-kit';

const originSchema = z
  .object({
    connections: z
      .number()
      .int()
      .min(1)
      .max(1024)
      .default(8)
      .describe('Keep-alive connections to each origin.'),
    metainfoTimeoutMs: z
      .number()
      .int()
      .min(1)
      .default(600_000)
      .describe(
        'Time allowed for a metainfo answer to start (ms); an origin hashes the whole blob before its first answer.',
      ),
    seedWaitMs: z
      .number()
      .int()
      .min(0)
      .default(2_000)
      .describe(
        'How long an announce waits for the origin to start seeding a blob whose swarm has no origin (ms); the peer meets it on a later announce otherwise.',
      ),
    seedRetryMs: z
      .number()
      .int()
      .min(0)
      .default(5_000)
      .describe('After a failed request to seed a blob, how long until the origin is asked again (ms).'),
  })
  .strict()
  .prefault({})
  .describe('Requests to the origins: metainfo fetches and requests to seed.');

export const trackerConfigSchema = z
  .object({
    listen: listenSchema(15003),
    tracker: trackerSectionSchema,
    origins: originRingSchema.describe(
      'The origin ring: a blob’s metainfo comes from, and seeding is asked of, its owners.',
    ),
    origin: originSchema,
    tls: tlsSchema,
    logging: loggingSchema,
    tracing: tracingSchema,
  })
  .strict();

export type TrackerConfig = z.output<typeof trackerConfigSchema>;

/** Title and intro of docs/config/tracker.md, read by tools/docs-config.mjs and by the app's config-docs.test.ts. */
export const trackerConfigReference = {
  component: 'tracker',
  title: 'Tracker configuration',
  intro:
    'The tracker hands out peers per blob, serves blob metainfo fetched from the origins and asks an origin to seed a swarm that has none. It reads one YAML file, `node apps/tracker/dist/main.js --config tracker.yaml`; every key is optional, and an empty file (or no `--config`) runs with the devcluster defaults below.',
};
