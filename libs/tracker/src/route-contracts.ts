/**
 * The tracker's /v1/ routes as data (see RouteContract in @kraken/service-kit), made of
 * the schemas the handlers parse with: the tracker's API document is rendered from
 * these, and route-contracts.test.ts checks that they name every route served.
 */
import {
  announceBatchRequestSchema,
  announceBatchResponseSchema,
  announceRequestSchema,
  announceResponseSchema,
  metainfoSchema,
} from '@kraken/p2p-core';
import type { RouteContract } from '@kraken/service-kit';
import { blobParamsSchema } from './routes.js';

export const trackerRouteContracts: readonly RouteContract[] = [
  {
    method: 'POST',
    path: '/v1/announce',
    summary: "Records the peer in the blob's swarm and answers with other peers of it.",
    description:
      'When the swarm has no origin yet, the tracker first asks the origins that own the blob to seed it.',
    body: announceRequestSchema,
    responses: {
      200: {
        description:
          'Peers to connect to, and when to announce again. In JSON; in binary (`application/vnd.kraken.announce-answer.v1`, the layout in `@kraken/p2p-core` announce-binary.ts) when the Accept header lists it.',
        body: announceResponseSchema,
      },
      400: { description: 'Not an announce.', body: 'error' },
      413: { description: 'A body far larger than any announce.', body: 'error' },
      415: { description: 'Not JSON.', body: 'error' },
    },
  },
  {
    method: 'POST',
    path: '/v1/announce/batch',
    summary: 'Announces many blobs of one peer at once: each as `POST /v1/announce` would.',
    description:
      "Agents and origins send one batch per tracker and interval with every blob they hold, so a tracker's cost per announce is not a request's. An entry's `want` caps its handout; a seeder sends 0. Blobs whose swarm has no origin yet have the origins asked first, as for one announce.",
    body: announceBatchRequestSchema,
    responses: {
      200: {
        description:
          "One answer per blob, in the request's order. In JSON; in binary (`application/vnd.kraken.announce-batch-answer.v1`, the layout in `@kraken/p2p-core` announce-binary.ts) when the Accept header lists it.",
        body: announceBatchResponseSchema,
      },
      400: { description: 'Not a batch announce (including a blob named twice).', body: 'error' },
      413: { description: 'A body larger than 1,000 entries take.', body: 'error' },
      415: { description: 'Not JSON.', body: 'error' },
    },
  },
  {
    method: 'GET',
    path: '/v1/blobs/:digest/metainfo',
    summary: "The blob's metainfo, from the origins and cached, as canonical JSON.",
    params: blobParamsSchema,
    responses: {
      200: {
        description: 'The metainfo.',
        body: metainfoSchema,
        headers: { etag: 'The metainfo id, quoted.' },
      },
      400: { description: 'A malformed digest.', body: 'error' },
      404: { description: 'No origin holds the blob.', body: 'error' },
    },
  },
];
