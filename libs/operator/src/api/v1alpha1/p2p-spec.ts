/**
 * `spec.p2p`: what the agents and origins share as peers of one swarm: the cluster id
 * checked in every handshake, how a peer proves membership when `spec.tls` is off (a
 * token from a Secret), and the connection limits of p2p-core.
 */
import { z } from 'zod';
import { peerConfigShape } from '@kraken/p2p-core';
import { secretKeyRefSchema } from './core-types.js';

const { connections } = peerConfigShape({ port: 16001, dir: 'p2p' });

/** Valid as a P2P cluster id and as the build-index's replication cluster id alike. */
export const CLUSTER_ID_PATTERN = '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$';

export const p2pSpecSchema = z
  .object({
    clusterId: z
      .string()
      .regex(
        new RegExp(CLUSTER_ID_PATTERN),
        'must be 1-63 characters of [a-z0-9-], alphanumeric at both ends',
      )
      .optional()
      .describe(
        "This cluster's id: peers of other clusters are refused in the P2P handshake, and it stamps the build-index's tag versions. Default: the KrakenCluster's name.",
      ),
    clusterToken: secretKeyRefSchema('token')
      .optional()
      .describe(
        'Secret key holding the cluster token (at least 16 bytes): without `spec.tls`, peers prove they hold it before anything else. With neither, any peer that knows the cluster id gets in.',
      ),
    connections,
  })
  .strict()
  .prefault({})
  .describe('Peer-to-peer settings shared by agents and origins.');
