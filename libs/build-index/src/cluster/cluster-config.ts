/**
 * Config blocks of the build-index cluster. Clients (proxy, agent) embed
 * `buildIndexRingSchema` as `buildIndex:`: the nodes, health checking, and failover
 * between them. Each node embeds `buildIndexPeersSchema` as `cluster:`: the other
 * nodes it replicates tag writes to and sweeps for anti-entropy.
 */
import { z } from 'zod';
import { createRingConfigSchema } from '@kraken/hashring';

export const buildIndexRingSchema = createRingConfigSchema({
  nodes: ['127.0.0.1:15004'],
  replicas: 1,
}).describe(
  'The build-index nodes. Every node holds every tag; requests of one repository go to the same node while it is healthy (so a pusher reads its own write) and fail over to the next one.',
);

export const buildIndexPeersSchema = z
  .object({
    peers: z
      .array(z.url())
      .default([])
      .describe('Base URLs of the other build-index nodes of this cluster (not this one).'),
    replicationTimeoutMs: z
      .number()
      .int()
      .min(1)
      .default(5_000)
      .describe(
        'Time a peer gets to ack a replicated tag write before anti-entropy is left to repair it (ms).',
      ),
    antiEntropyIntervalMs: z
      .number()
      .int()
      .min(0)
      .default(30_000)
      .describe("Milliseconds between pulls of every peer's tags (newest value wins); 0 disables them."),
  })
  .strict()
  .prefault({})
  .describe('Replication between the nodes of this build-index cluster.');

export type BuildIndexPeersConfig = z.output<typeof buildIndexPeersSchema>;
