/**
 * Config of the upstream registries an origin pulls through (`upstreams`): the cluster's
 * mirror of docker.io, ghcr.io and the like. Agents name an upstream by its registry
 * host (containerd's `?ns=`); only the origins hold its URL and credentials, so the
 * secrets live on a few origin pods instead of on every node, and nodes need no egress.
 */
import { z } from 'zod';
import { isRegistryHost } from '@kraken/oci-content';
import { backendResilienceSchema } from '@kraken/storage-backends';

export const upstreamNameSchema = z
  .string()
  .refine(isRegistryHost, 'not a registry host name such as docker.io or registry.local:5000');

export const originUpstreamSchema = z
  .object({
    name: upstreamNameSchema.describe(
      'Registry host as image references name it and containerd sends it in `?ns=`, e.g. `docker.io`.',
    ),
    url: z
      .url({ protocol: /^https?$/ })
      .refine((url) => !/^[a-z]+:\/\/[^/]*@/i.test(url), 'put credentials in credentialsFile, not in the URL')
      .describe('Base URL of its API (the /v2/ endpoints are below it), e.g. https://registry-1.docker.io.'),
    credentialsFile: z
      .string()
      .min(1)
      .optional()
      .describe(
        'JSON file `{"username": ..., "password": ...}` (a mounted Secret); read at start. Absent, pulls are anonymous.',
      ),
    tagCacheSeconds: z
      .number()
      .min(0)
      .default(5)
      .describe(
        'Tag lookups within this many seconds of the last one share its answer, so a fleet resolving a tag at once costs the upstream one request.',
      ),
    staleIfErrorSeconds: z
      .number()
      .min(0)
      .default(86_400)
      .describe(
        'While the upstream fails, a tag resolved this recently is still answered (marked stale); 0 never answers stale.',
      ),
    resilience: backendResilienceSchema
      .prefault({})
      .describe('Bandwidth limits, retries and timeouts of requests to this upstream.'),
  })
  .strict();

export const originUpstreamsSchema = z
  .array(originUpstreamSchema)
  .default([])
  .refine((list) => new Set(list.map((u) => u.name)).size === list.length, 'upstream names must be unique')
  .describe(
    'Upstream registries mirrored for agents (pull-through): content enters the cluster once, through the origin that owns its digest.',
  );

export type OriginUpstreamConfig = z.output<typeof originUpstreamSchema>;
