/** Configuration of the proxy binary, assembled from the libs' schemas. */
import { z } from 'zod';
import { originRingSchema } from '@kraken/origin';
import { buildIndexRingSchema } from '@kraken/build-index';
import { registryApiConfigSchema, registryAuthConfigSchema } from '@kraken/registry-api';
import { listenSchema, loggingSchema, tlsSchema, tracingSchema } from '@kraken/service-kit';

export const proxyConfigSchema = z
  .object({
    listen: listenSchema(15000),
    registry: registryApiConfigSchema,
    auth: registryAuthConfigSchema,
    origins: originRingSchema.describe(
      'The origin ring blobs and manifests are written to; `replicas` must match the origins’ own.',
    ),
    buildIndex: buildIndexRingSchema,
    cache: z
      .object({
        ttlSeconds: z
          .number()
          .nonnegative()
          .default(2)
          .describe(
            'How long a tag or repository membership read from the build-index is trusted. Pushes through this proxy are visible at once; pushes through other proxies after at most this long.',
          ),
        manifestBytes: z
          .number()
          .int()
          .nonnegative()
          .default(32 * 1024 * 1024)
          .describe('Memory for cached manifest documents (immutable by digest).'),
        blobDir: z
          .string()
          .min(1)
          .default('/tmp/kraken/blob-cache')
          .describe(
            'Disk cache of blobs pushed through this proxy. Put it on the same filesystem as registry.uploads.dir: finished uploads are then hard-linked in, not copied.',
          ),
        blobBytes: z
          .number()
          .int()
          .nonnegative()
          .default(10 * 1024 ** 3)
          .describe(
            'Disk budget of the blob cache (bytes); least recently used blobs are evicted past it. 0 turns the cache off.',
          ),
      })
      .strict()
      .prefault({})
      .describe('In-memory caches of the read path.'),
    tls: tlsSchema,
    logging: loggingSchema,
    tracing: tracingSchema,
  })
  .strict();

export type ProxyConfig = z.output<typeof proxyConfigSchema>;

/** Title and intro of docs/config/proxy.md, read by tools/docs-config.mjs and by the app's config-docs.test.ts. */
export const proxyConfigReference = {
  component: 'proxy',
  title: 'Proxy configuration',
  intro:
    'The proxy is the push side of the registry: a read-write OCI API that writes blobs and manifests to the origins and tags to the build-index. It reads one YAML file, `node apps/proxy/dist/main.js --config proxy.yaml`; every key is optional, and an empty file (or no `--config`) runs with the devcluster defaults below.',
};
