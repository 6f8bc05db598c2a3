/**
 * Configuration of the origin binary, assembled from the libs' schemas. Every key has
 * a default that works in the devcluster (first origin, data under .devcluster/).
 */
import { z } from 'zod';
import {
  originCacheSchema,
  originLimitsSchema,
  originReplicationSchema,
  originRingSchema,
  originUpstreamsSchema,
  writeBackSchema,
} from '@kraken/origin';
import { peerConfigSchema, trackerRingSchema } from '@kraken/p2p-core';
import { listenSchema, loggingSchema, tlsShape, tlsWritersSchema, tracingSchema } from '@kraken/service-kit';
import { namespaceRuleSchema, storageBackendSchema, backendResilienceSchema } from '@kraken/storage-backends';

export const originConfigSchema = z
  .object({
    listen: listenSchema(15002),
    storage: storageBackendSchema({ defaultRoot: './.devcluster/origin-0/store' }),
    storageResilience: backendResilienceSchema
      .prefault({})
      .describe(
        'Bandwidth limits, retries and timeouts of the `storage` backend (routed backends carry their own).',
      ),
    storageRouting: z
      .array(namespaceRuleSchema({ defaultRoot: './.devcluster/origin-0/store' }))
      .min(1)
      .optional()
      .describe(
        'Backends by namespace (the repository a blob was pushed to), first match wins; a push to a namespace no rule matches is refused. Absent, every blob goes to `storage`.',
      ),
    cache: originCacheSchema({ dir: './.devcluster/origin-0/cache' }),
    writeBack: writeBackSchema({ dbPath: './.devcluster/origin-0/write-back.db' }),
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
    origins: originRingSchema.describe(
      'The origin ring this origin is a member of: the owners of each blob get its copies.',
    ),
    replication: originReplicationSchema,
    upstreams: originUpstreamsSchema,
    p2p: peerConfigSchema({ port: 15001, dir: './.devcluster/origin-0/p2p' }),
    trackers: trackerRingSchema,
    seeding: z
      .object({
        idleSeconds: z
          .number()
          .positive()
          .default(300)
          .describe('A seeded blob no peer asked a piece of for this long leaves its swarm.'),
        maxBlobs: z
          .number()
          .int()
          .min(1)
          .default(10_000)
          .describe('Blobs seeded at once; the least recently active leaves past it.'),
      })
      .strict()
      .prefault({})
      .describe('Seeding over P2P, on demand from the tracker.'),
    metainfo: z
      .object({
        pieceHashing: z
          .enum(['sha256-chain', 'sha256'])
          .default('sha256-chain')
          .describe(
            'Piece hashes of new metainfo for sha256 blobs. sha256-chain: chaining values, so agents hash each byte once; sha256: each piece alone, which agents older than chains also read (they pull directly from the origins otherwise). Every origin of a ring must agree.',
          ),
      })
      .strict()
      .prefault({})
      .describe('How the origin describes blobs to the swarm.'),
    tls: z
      .object({
        ...tlsShape,
        // Blob pushes, copies among the owners, copies from other clusters, seed requests.
        writers: tlsWritersSchema(['proxy', 'origin', 'build-index', 'tracker']),
      })
      .strict()
      .prefault({})
      .describe(
        'TLS of the blob API and of requests to other origins and the trackers; with client certificates, only `writers` may store, delete, upload or ask for seeding.',
      ),
    logging: loggingSchema,
    tracing: tracingSchema,
  })
  .strict();

export type OriginConfig = z.output<typeof originConfigSchema>;

/** Title and intro of docs/config/origin.md, read by tools/docs-config.mjs and by the app's config-docs.test.ts. */
export const originConfigReference = {
  component: 'origin',
  title: 'Origin configuration',
  intro:
    'The origin stores blobs by content address in a local cache in front of a storage backend, replicates them across the origin ring and seeds them over P2P. It reads one YAML file, `node apps/origin/dist/main.js --config origin.yaml`; every key is optional, and an empty file (or no `--config`) runs with the devcluster defaults below.',
};
