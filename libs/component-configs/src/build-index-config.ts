/** Configuration of the build-index binary, assembled from the libs' schemas. */
import { z } from 'zod';
import { originRingSchema } from '@kraken/origin';
import { buildIndexPeersSchema, replicationConfigSchema } from '@kraken/build-index';
import { listenSchema, loggingSchema, tlsShape, tlsWritersSchema, tracingSchema } from '@kraken/service-kit';
import { backendResilienceSchema, storageBackendSchema } from '@kraken/storage-backends';

const originSchema = z
  .object({
    connections: z
      .number()
      .int()
      .min(1)
      .max(1024)
      .default(16)
      .describe('Keep-alive connections to each origin.'),
    timeoutMs: z
      .number()
      .int()
      .min(1)
      .default(30_000)
      .describe('Time allowed for an origin response to start, and for each pause in its body (ms).'),
  })
  .strict()
  .prefault({})
  .describe('Requests to the origins holding manifests and blobs.');

const contentCheckSchema = z
  .object({
    concurrency: z
      .number()
      .int()
      .min(1)
      .max(256)
      .default(8)
      .describe('Origin requests in flight at once per tag write.'),
    maxIndexDepth: z
      .number()
      .int()
      .min(1)
      .max(16)
      .default(4)
      .describe('Deepest image-index nesting followed.'),
    maxManifests: z
      .number()
      .int()
      .min(1)
      .max(100_000)
      .default(256)
      .describe('Most manifests one tag write may reference (through indexes) before it is refused.'),
  })
  .strict()
  .prefault({})
  .describe('The check that a tag only points at content present on the origin.');

export const buildIndexConfigSchema = z
  .object({
    listen: listenSchema(15004),
    storage: storageBackendSchema({ defaultRoot: '.devcluster/build-index-0' }),
    storageResilience: backendResilienceSchema
      .prefault({})
      .describe('Bandwidth limits, retries and timeouts of the `storage` backend.'),
    origins: originRingSchema.describe('The origin ring that tag writes are checked against.'),
    origin: originSchema,
    contentCheck: contentCheckSchema,
    cluster: buildIndexPeersSchema,
    replication: replicationConfigSchema,
    tls: z
      .object({
        ...tlsShape,
        // Tag and manifest pushes, and the nodes of this and other clusters replicating.
        writers: tlsWritersSchema(['proxy', 'build-index']),
      })
      .strict()
      .prefault({})
      .describe(
        'TLS of the API and of requests to the origins, the peers and other clusters; with client certificates, only `writers` may write tags, manifest records, replicas and replication rules.',
      ),
    logging: loggingSchema,
    tracing: tracingSchema,
  })
  .strict();

export type BuildIndexConfig = z.output<typeof buildIndexConfigSchema>;

/** Title and intro of docs/config/build-index.md, read by tools/docs-config.mjs and by the app's config-docs.test.ts. */
export const buildIndexConfigReference = {
  component: 'build-index',
  title: 'Build-index configuration',
  intro:
    'The build-index maps tags to manifest digests, records repository membership and refuses tags whose content is not on the origins; its nodes form a cluster that replicates every tag, and replication rules copy tags and their content to other clusters. It reads one YAML file, `node apps/build-index/dist/main.js --config build-index.yaml`; every key is optional, and an empty file (or no `--config`) runs with the devcluster defaults below.',
};
