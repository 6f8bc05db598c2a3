/**
 * The `p2p` block of the agent's and the origin's config: where the peer listens,
 * what it announces, its cluster and how its peers prove they belong to it, where partial
 * downloads live, and the limits of its connections, bandwidth and scheduler. One schema
 * for both, so they cannot drift.
 */
import { z } from 'zod';
import { isUnspecifiedHost, isValidPeerHost } from '../announce/announce-protocol.js';
import { bandwidthSchema } from '../conn/bandwidth-config.js';
import { connectionSchema } from '../conn/conn-config.js';
import { membershipShape } from '../conn/membership-config.js';
import { isValidClusterId } from '../wire/handshake.js';
import { schedulerLimitsSchema } from '../scheduler/scheduler-config.js';

export interface PeerConfigDefaults {
  /** Default P2P port (15001 for the first origin, 16001 for the first agent). */
  readonly port: number;
  /** Default directory of partial downloads. */
  readonly dir: string;
}

/** The fields of the block, for a component that adds its own (the agent's fallback). */
export const peerConfigShape = (defaults: PeerConfigDefaults) => ({
  listen: z
    .object({
      host: z.string().min(1).default('0.0.0.0').describe('Address the P2P (TCP) server binds to.'),
      port: z.number().int().min(0).max(65535).default(defaults.port).describe('P2P (TCP) port.'),
    })
    .strict()
    .prefault({})
    .describe('P2P listen address.'),
  advertiseHost: z
    .string()
    .refine(
      (host) => isUnspecifiedHost(host) || isValidPeerHost(host),
      'must be an IP address (IPv6 without brackets), a DNS host name, or 0.0.0.0',
    )
    .default('0.0.0.0')
    .describe(
      'Host other peers dial, as announced to the tracker; "0.0.0.0" lets the tracker use the source address of the announce.',
    ),
  clusterId: z
    .string()
    .refine(isValidClusterId, 'must be 1-63 characters of [A-Za-z0-9._-], starting alphanumeric')
    .default('devcluster')
    .describe('Peers only talk to peers of the same cluster id (checked in the handshake).'),
  ...membershipShape,
  dir: z
    .string()
    .min(1)
    .default(defaults.dir)
    .describe(
      'Directory of partial downloads and their bitfields; keep it on the cache filesystem so completed blobs move in without a copy.',
    ),
  connections: connectionSchema,
  bandwidth: bandwidthSchema,
  bufferPoolBytes: z
    .number()
    .int()
    .min(0)
    .default(32 * 1024 * 1024)
    .describe(
      'Memory kept for reuse by piece buffers (pieces received, and read for uploads and for clients), ' +
        'in bytes. Above it, finished buffers are left to the garbage collector; 0 pools nothing.',
    ),
  syncIntervalMs: z
    .number()
    .int()
    .min(0)
    .default(200)
    .describe(
      "Least time between the starts of two writes of a download's bitfield (the pieces it holds), in " +
        'milliseconds: a restarted agent resumes without the pieces of at most the last write or this long; ' +
        '0 writes back to back. Pieces are not synced as they arrive; after a reboot, those the bitfield ' +
        'claims are hashed again, and a complete blob is synced once before it enters the cache.',
    ),
  recentPieceBytes: z
    .number()
    .int()
    .min(0)
    .default(16 * 1024 * 1024)
    .describe(
      'Bytes of the pieces received last that each download keeps in memory, so that uploads, clients ' +
        'streaming the blob and its digest read them right after they arrived without going to disk; 0 keeps none.',
    ),
  scheduler: schedulerLimitsSchema.prefault({}).describe('Swarm scheduling limits and timers.'),
});

export const peerConfigSchema = (defaults: PeerConfigDefaults) =>
  z.object(peerConfigShape(defaults)).strict().prefault({}).describe('Peer-to-peer distribution.');

export type PeerConfig = z.output<ReturnType<typeof peerConfigSchema>>;
