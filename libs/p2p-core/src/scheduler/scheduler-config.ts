/**
 * The scheduler's limits (scheduler-limits.ts) as a zod config schema, the `scheduler`
 * field of the agent's and the origin's `p2p` block (node/peer-config.ts). Defaults are
 * DEFAULT_SCHEDULER_LIMITS.
 */
import { z } from 'zod';
import { DEFAULT_SCHEDULER_LIMITS as D } from './scheduler-limits.js';

const ms = (fallback: number, what: string) => z.number().int().min(1).default(fallback).describe(what);

export const schedulerLimitsSchema = z
  .object({
    maxPeersPerBlob: z
      .number()
      .int()
      .min(1)
      .max(200)
      .default(D.maxPeersPerBlob)
      .describe('Peers dialed per downloading blob.'),
    pipelineDepth: z
      .number()
      .int()
      .min(1)
      .max(64)
      .default(D.pipelineDepth)
      .describe('Piece requests outstanding per peer and blob.'),
    maxRequestsPerBlob: z
      .number()
      .int()
      .min(1)
      .max(4096)
      .default(D.maxRequestsPerBlob)
      .describe(
        "Piece requests outstanding per blob over all its peers; more only queue in the senders' uplinks.",
      ),
    maxRequestBytesPerBlob: z
      .number()
      .int()
      .min(1)
      .default(D.maxRequestBytesPerBlob)
      .describe(
        'Bytes of pieces requested and not yet received per blob: with the large pieces of a large blob ' +
          'fewer than maxRequestsPerBlob requests are outstanding (two at least), so that a download holds ' +
          'as much memory for a 4 GiB blob as for a 1 GiB one.',
      ),
    requestTimeoutMs: ms(
      D.requestTimeoutMs,
      'A piece request unanswered this long moves to another peer (ms).',
    ),
    uploadQueueLength: z
      .number()
      .int()
      .min(1)
      .max(1024)
      .default(D.uploadQueueLength)
      .describe('Requests queued per peer and blob before the peer is told "overloaded".'),
    idleLeecherMs: ms(
      D.idleLeecherMs,
      'A peer of a download that traded no piece this long is dropped (ms).',
    ),
    idleSeederMs: ms(
      D.idleSeederMs,
      'A peer of a seeded blob that asked for no piece this long is dropped (ms).',
    ),
    idleConnectionMs: ms(D.idleConnectionMs, 'A connection carrying no blob this long is closed (ms).'),
    seedAfterCompleteMs: z
      .number()
      .int()
      .min(0)
      .default(D.seedAfterCompleteMs)
      .describe('How long a finished download keeps seeding (ms); 0 leaves the swarm at once.'),
    readAheadPieces: z
      .number()
      .int()
      .min(0)
      .max(2048)
      .default(D.readAheadPieces)
      .describe(
        'Pieces after the one a client streaming the blob waits for that are asked for before the rest ' +
          '(rarest first among them), so that the client reads pieces as they arrive; 0 picks by rarity alone.',
      ),
    announceIntervalMs: ms(D.announceIntervalMs, 'Announce interval until the tracker names one (ms).'),
    tickMs: ms(D.tickMs, 'How often request timeouts and idle peers are checked (ms).'),
  })
  .strict();
