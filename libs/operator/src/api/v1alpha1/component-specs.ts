/**
 * The spec blocks of the ring components: the origins (blob store and seeders, on a
 * rendezvous ring backed by `spec.storage`), the trackers and the build-index. Each is
 * a StatefulSet; counts, resources and volumes are per component.
 */
import { z } from 'zod';
import { objectNameSchema, resourcesSchema, secretKeyRefSchema, volumeSchema } from './core-types.js';
import { quantitySchema } from './quantity.js';

/** A StatefulSet's replica count; a ring needs a member, so 0 is refused with the negatives. */
function ringMembersSchema(defaultCount: number, what: string) {
  return z.number().int().min(1).default(defaultCount).describe(`Pods of the ${what}, one ring member each.`);
}

export const upstreamSpecSchema = z
  .object({
    name: z
      .string()
      .min(1)
      .max(253)
      .describe(
        'Registry host as image references name it and containerd sends it in `?ns=`, e.g. `docker.io`.',
      ),
    url: z
      .url()
      .describe('Base URL of its API (the /v2/ endpoints are below it), e.g. https://registry-1.docker.io.'),
    credentials: secretKeyRefSchema('credentials.json')
      .optional()
      .describe(
        'Secret key holding `{"username": ..., "password": ...}` (JSON), mounted into the origins; anonymous pulls when unset.',
      ),
  })
  .strict()
  .describe('An upstream registry mirrored for the agents (pull-through through the origins).');

export type UpstreamSpec = z.output<typeof upstreamSpecSchema>;

export const originsSpecSchema = z
  .object({
    replicas: ringMembersSchema(3, 'origin ring'),
    ringReplicas: z
      .number()
      .int()
      .min(1)
      .default(2)
      .describe('Copies of each blob: the owners of a digest on the ring; at most `replicas`.'),
    volume: volumeSchema('50Gi'),
    cacheSize: quantitySchema()
      .default('16Gi')
      .describe(
        "Disk budget of each origin's blob cache, on its volume; at most `volume.size` (with filesystem storage the stored blobs share the volume too).",
      ),
    upstreams: z
      .array(upstreamSpecSchema)
      .default([])
      .describe(
        'Upstream registries mirrored for the agents: content enters the cluster once, through the origin that owns its digest, then spreads by P2P.',
      ),
    resources: resourcesSchema({ cpu: '500m', memory: '1Gi' }),
  })
  .strict()
  .prefault({})
  .describe('The origin ring: stores blobs, writes them back to `storage`, and seeds them over P2P.');

export const trackersSpecSchema = z
  .object({
    replicas: ringMembersSchema(2, 'tracker ring'),
    resources: resourcesSchema({ cpu: '250m', memory: '256Mi' }),
  })
  .strict()
  .prefault({})
  .describe('The tracker ring: hands out peers per blob and asks origins to seed.');

export const buildIndexSpecSchema = z
  .object({
    replicas: ringMembersSchema(2, 'build-index cluster'),
    volume: volumeSchema('10Gi'),
    resources: resourcesSchema({ cpu: '250m', memory: '512Mi' }),
  })
  .strict()
  .prefault({})
  .describe(
    'The build-index: tags, repository membership and replication rules; every node holds every tag and its replication queue on its volume.',
  );

/** A Secret name, for Secrets whose keys are fixed (kubernetes.io/tls). */
export const secretNameSchema = objectNameSchema;
