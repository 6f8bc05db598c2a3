/**
 * The agent's mirror mode (`mirror`): which upstream registries it answers for when
 * containerd asks with `?ns=<registry>`. Only names and tag lifetimes live here; the
 * upstreams' URLs and credentials are the origins' (`upstreams` in their config), so no
 * node holds registry secrets or needs a route to the internet.
 */
import { z } from 'zod';
import { isRegistryHost } from '@kraken/oci-content';

export const agentMirrorSchema = z
  .object({
    upstreams: z
      .array(
        z
          .object({
            name: z
              .string()
              .refine(isRegistryHost, 'not a registry host name such as docker.io')
              .describe(
                'Registry host containerd names in `?ns=`; the origins must list it under `upstreams`.',
              ),
            tagTtlSeconds: z
              .number()
              .min(0)
              .default(30)
              .describe(
                'How long a resolved tag is trusted before the origins are asked again; digests never need asking again.',
              ),
          })
          .strict(),
      )
      .default([])
      .refine(
        (list) => new Set(list.map((u) => u.name)).size === list.length,
        'upstream names must be unique',
      )
      .describe('Registries mirrored; a request for any other answers 404 at once so containerd moves on.'),
    pushRegistries: z
      .array(z.string().refine(isRegistryHost, 'not a registry host name such as registry.example.com'))
      .default([])
      .describe(
        "Names of this cluster's own proxy, as images pushed through it are named (e.g. `registry.example.com`): `?ns=` with one of them serves pushed content, so nodes pulling by that name get it by P2P.",
      ),
    staleIfErrorSeconds: z
      .number()
      .min(0)
      .default(86_400)
      .describe(
        'While the origins or the upstream fail, a tag resolved this recently is still served, with `Warning: 110` on the response; 0 never serves a tag past its TTL.',
      ),
  })
  .strict()
  .prefault({})
  .describe(
    'containerd mirror mode: pull-through of upstream registries, shared by P2P like pushed content.',
  );

export type AgentMirrorConfig = z.output<typeof agentMirrorSchema>;
