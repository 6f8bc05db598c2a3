/** Configuration of the agent binary, assembled from the libs' schemas. */
import { z } from 'zod';
import { originRingSchema } from '@kraken/origin';
import { buildIndexRingSchema } from '@kraken/build-index';
import { peerConfigShape, trackerRingSchema } from '@kraken/p2p-core';
import { registryLimitsSchema } from '@kraken/registry-api';
import { listenSchema, loggingSchema, tlsSchema, tracingSchema } from '@kraken/service-kit';
import { agentMirrorSchema } from './agent-mirror-config.js';

export const agentConfigSchema = z
  .object({
    listen: listenSchema(16000),
    registry: z
      .object({ limits: registryLimitsSchema })
      .strict()
      .prefault({})
      .describe('OCI distribution API served on localhost (read-only).'),
    cache: z
      .object({
        dir: z
          .string()
          .min(1)
          .default('.devcluster/agent-0/cache')
          .describe('Directory of the local blob cache.'),
        maxBytes: z
          .number()
          .int()
          .nonnegative()
          .default(50 * 1024 ** 3)
          .describe(
            'Disk budget of the cache (bytes, counting only cached blobs); least recently used blobs are evicted past it, never one being served. 0 means unbounded.',
          ),
        tagTtlSeconds: z
          .number()
          .nonnegative()
          .default(5)
          .describe(
            'How long a resolved tag is trusted before the build-index is asked again: a tag moved by a push is served by every agent within this many seconds of the push completing.',
          ),
        staleTagIfErrorSeconds: z
          .number()
          .nonnegative()
          .default(0)
          .describe(
            'How long past its TTL a resolved tag may still be served while the build-index cannot be reached; 0 never serves a tag past its TTL (a pull then fails rather than get an old digest).',
          ),
      })
      .strict()
      .prefault({})
      .describe('Local on-disk cache of pulled content.'),
    origins: originRingSchema.describe(
      'The origin ring manifests and small blobs are fetched from (large ones come through the swarm).',
    ),
    buildIndex: buildIndexRingSchema,
    trackers: trackerRingSchema,
    p2p: z
      .object({
        ...peerConfigShape({ port: 16001, dir: '.devcluster/agent-0/p2p' }),
        fallbackAfterMs: z
          .number()
          .int()
          .min(1)
          .default(30_000)
          .describe(
            'A swarm download that receives no piece for this long is abandoned for a direct origin download (ms).',
          ),
      })
      .strict()
      .prefault({})
      .describe(
        'Peer-to-peer distribution: blobs larger than one piece come through the swarm, the rest straight from an origin.',
      ),
    mirror: agentMirrorSchema,
    tls: tlsSchema.describe(
      'TLS of requests to the origins, build-index and trackers (`client`), and of the registry on `listen` (`server`; plain HTTP by default, as containerd reaches it on localhost).',
    ),
    logging: loggingSchema,
    tracing: tracingSchema,
  })
  .strict();

export type AgentConfig = z.output<typeof agentConfigSchema>;

/** Title and intro of docs/config/agent.md, read by tools/docs-config.mjs and by the app's config-docs.test.ts. */
export const agentConfigReference = {
  component: 'agent',
  title: 'Agent configuration',
  intro:
    'The agent runs on every host: a read-only OCI registry on localhost that fetches manifests and small blobs from the origins and large blobs through the peer-to-peer swarm. It reads one YAML file, `node apps/agent/dist/main.js --config agent.yaml`; every key is optional, and an empty file (or no `--config`) runs with the devcluster defaults below.',
};
