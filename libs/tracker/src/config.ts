/** Configuration of the tracker's swarm bookkeeping, peer handout and metainfo cache. */
import { z } from 'zod';
import { MAX_ANNOUNCE_PEERS } from '@kraken/p2p-core';
import { DEFAULT_MAX_BLOBS, DEFAULT_MAX_PEERS_PER_BLOB } from './peer-store.js';
import { PEER_PRIORITIES } from './peer-policy.js';

export const trackerConfigSchema = z
  .object({
    announceIntervalSeconds: z
      .number()
      .positive()
      .max(3600)
      .default(3)
      .describe('How often peers are told to announce each blob they download or seed.'),
    peerTtlSeconds: z
      .number()
      .positive()
      .max(24 * 3600)
      .default(30)
      .describe('A peer is forgotten this long after its last announce; must exceed the interval.'),
    peersPerAnnounce: z
      .number()
      .int()
      .min(1)
      .max(MAX_ANNOUNCE_PEERS)
      .default(50)
      .describe('Most peers handed out per announce.'),
    priority: z
      .enum(PEER_PRIORITIES)
      .default('complete-first')
      .describe(
        'Order of the handout: complete-first (completed peers and origins, then the rest), origins-first, or random.',
      ),
    maxPeersPerBlob: z
      .number()
      .int()
      .min(1)
      .default(DEFAULT_MAX_PEERS_PER_BLOB)
      .describe('Peers remembered per blob; the least recently announced is forgotten past it.'),
    maxBlobs: z
      .number()
      .int()
      .min(1)
      .default(DEFAULT_MAX_BLOBS)
      .describe('Blobs (swarms) remembered; the least recently announced is forgotten past it.'),
    metainfoCacheBytes: z
      .number()
      .int()
      .min(1024 * 1024)
      .default(64 * 1024 * 1024)
      .describe('Memory for metainfo fetched from the origins (about 140 KB for the largest blobs).'),
  })
  .strict()
  .superRefine((config, ctx) => {
    if (config.peerTtlSeconds <= config.announceIntervalSeconds) {
      ctx.addIssue({
        code: 'custom',
        path: ['peerTtlSeconds'],
        message: `must exceed announceIntervalSeconds (${config.announceIntervalSeconds})`,
      });
    }
  })
  .prefault({})
  .describe('Swarm bookkeeping of the tracker.');

export type TrackerConfig = z.output<typeof trackerConfigSchema>;
