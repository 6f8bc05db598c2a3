/**
 * The origin's /v1/ routes as data (see RouteContract in @kraken/service-kit), made of
 * the schemas the handlers parse with: the origin's API document is rendered from
 * these, and route-contracts.test.ts checks that they name every route served.
 */
import { metainfoSchema } from '@kraken/p2p-core';
import type { RouteContract } from '@kraken/service-kit';
import { z } from 'zod';
import { upstreamReadQuerySchema, upstreamTagSchema } from '../upstream/upstream-ref.js';
import { upstreamTagParamsSchema, upstreamTagQuerySchema } from '../upstream/upstream-routes.js';
import {
  blobParamsSchema,
  blobWriteQuerySchema,
  seedAnswerSchema,
  uploadCommitQuerySchema,
  uploadCreatedSchema,
  uploadParamsSchema,
  uploadStatusSchema,
} from './contracts.js';
import { REPLICA_HEADER } from './replica-header.js';

const invalid = { description: 'A malformed digest, id, parameter or header.', body: 'error' } as const;
const blobNotFound = { description: 'The origin does not hold the blob.', body: 'error' } as const;
const uploadNotFound = { description: 'No such upload session.', body: 'error' } as const;
const upstreamUnknown = {
  description: 'The named upstream is not configured on this origin (or the upstream has no such content).',
  body: 'error',
} as const;
const upstreamFailed = {
  description: 'The named upstream failed, and nothing read from it before can stand in.',
  body: 'error',
} as const;

const rangeHeaders = z.object({
  range: z
    .string()
    .optional()
    .describe('One byte range, `bytes=<first>-[<last>]` or `bytes=-<suffix>`; absent, the whole blob.'),
});
const chunkHeaders = z.object({
  'content-range': z
    .string()
    .optional()
    .describe('Where the chunk lies in the upload, `bytes <first>-<last>[/<size>|/*]` or `<first>-<last>`.'),
  'upload-offset': z
    .string()
    .optional()
    .describe('Where a chunk of unknown length starts (decimal); must be the current offset.'),
});
const replicaHeaders = z.object({
  [REPLICA_HEADER]: z
    .string()
    .optional()
    .describe('`1` marks the upload as a copy from another owner, which is not replicated again.'),
});
const committed = {
  201: { description: 'Stored, its digest verified, and copied to the other owners.' },
  400: { description: 'The content does not match the digest, or a bad parameter.', body: 'error' },
  413: { description: 'Larger than the configured limit.', body: 'error' },
  503: { description: 'Too few owners took a copy.', body: 'error' },
} as const;

const uploadLink = (route: `${'GET' | 'PATCH' | 'PUT' | 'DELETE'} /v1/uploads/:id`) => ({
  route,
  params: { id: '$response.body#/uploadId' },
});

export const originRouteContracts: readonly RouteContract[] = [
  {
    method: 'HEAD',
    path: '/v1/blobs/:digest',
    summary: "A blob's size; with `upstream`, starts reading it through from there.",
    params: blobParamsSchema,
    query: upstreamReadQuerySchema,
    responses: {
      200: {
        description: 'The origin holds (or can read) the blob.',
        headers: { 'content-length': 'The blob size.', 'accept-ranges': '`bytes`.' },
      },
      400: { description: 'A malformed digest or parameter.' },
      404: { description: 'The origin does not hold the blob, or the upstream is unknown.' },
      502: { description: 'The named upstream failed.' },
    },
  },
  {
    method: 'GET',
    path: '/v1/blobs/:digest',
    summary: 'The blob, or one byte range of it.',
    params: blobParamsSchema,
    query: upstreamReadQuerySchema,
    headers: rangeHeaders,
    responses: {
      200: { description: 'The whole blob.', body: 'bytes' },
      206: {
        description: 'The range asked for.',
        body: 'bytes',
        headers: { 'content-range': '`bytes <first>-<last>/<size>`.' },
      },
      400: invalid,
      404: blobNotFound,
      416: {
        description: 'The range starts past the end of the blob.',
        body: 'error',
        headers: { 'content-range': '`bytes */<size>`.' },
      },
      502: upstreamFailed,
    },
  },
  {
    method: 'PUT',
    path: '/v1/blobs/:digest',
    summary: 'Stores a blob from one streamed body, verified against the digest.',
    params: blobParamsSchema,
    query: blobWriteQuerySchema,
    headers: replicaHeaders,
    body: 'bytes',
    responses: committed,
  },
  {
    method: 'DELETE',
    path: '/v1/blobs/:digest',
    summary: 'Deletes a blob from this origin.',
    params: blobParamsSchema,
    responses: { 202: { description: 'Deleted.' }, 400: invalid, 404: blobNotFound },
  },
  {
    method: 'GET',
    path: '/v1/blobs/:digest/metainfo',
    summary: "The blob's metainfo (piece length and piece hashes), as canonical JSON.",
    params: blobParamsSchema,
    responses: {
      200: {
        description: 'The metainfo.',
        body: metainfoSchema,
        headers: { etag: 'The metainfo id, quoted.' },
      },
      400: invalid,
      404: blobNotFound,
    },
  },
  {
    method: 'POST',
    path: '/v1/blobs/:digest/seed',
    summary: "Joins the blob's swarm as a seeder, for the tracker.",
    params: blobParamsSchema,
    responses: {
      200: { description: 'Where peers reach this origin.', body: seedAnswerSchema },
      400: invalid,
      404: blobNotFound,
    },
  },
  {
    method: 'GET',
    path: '/v1/upstreams/:registry/tags',
    summary: 'The digest an upstream tag points at now.',
    params: upstreamTagParamsSchema,
    query: upstreamTagQuerySchema,
    responses: {
      200: { description: 'The digest, and whether it is a stale answer.', body: upstreamTagSchema },
      400: invalid,
      404: upstreamUnknown,
      502: upstreamFailed,
    },
  },
  {
    method: 'POST',
    path: '/v1/uploads',
    summary: 'Opens a chunked upload session.',
    responses: {
      201: {
        description: 'Opened.',
        body: uploadCreatedSchema,
        headers: { location: '`/v1/uploads/<id>`.' },
        links: {
          status: uploadLink('GET /v1/uploads/:id'),
          append: uploadLink('PATCH /v1/uploads/:id'),
          commit: uploadLink('PUT /v1/uploads/:id'),
          cancel: uploadLink('DELETE /v1/uploads/:id'),
        },
      },
      429: { description: 'Too many open sessions.', body: 'error' },
    },
  },
  {
    method: 'GET',
    path: '/v1/uploads/:id',
    summary: "An upload session's offset.",
    params: uploadParamsSchema,
    responses: {
      200: { description: 'The bytes received so far.', body: uploadStatusSchema },
      400: invalid,
      404: uploadNotFound,
    },
  },
  {
    method: 'PATCH',
    path: '/v1/uploads/:id',
    summary: 'Appends a chunk; chunks come in order, one at a time.',
    params: uploadParamsSchema,
    headers: chunkHeaders,
    body: 'bytes',
    responses: {
      202: { description: 'Appended.', body: uploadStatusSchema },
      400: invalid,
      404: uploadNotFound,
      409: { description: 'Another request is writing the session.', body: 'error' },
      413: { description: 'The upload would outgrow the configured limit.', body: 'error' },
      416: { description: 'The chunk does not start at the current offset.', body: 'error' },
    },
  },
  {
    method: 'PUT',
    path: '/v1/uploads/:id',
    summary: 'Commits an upload, with an optional last chunk, verified against the digest.',
    params: uploadParamsSchema,
    query: uploadCommitQuerySchema,
    headers: chunkHeaders,
    body: 'bytes',
    bodyOptional: true,
    responses: {
      ...committed,
      404: uploadNotFound,
      409: { description: 'Another request is writing the session.', body: 'error' },
      416: { description: 'The last chunk does not start at the current offset.', body: 'error' },
    },
  },
  {
    method: 'DELETE',
    path: '/v1/uploads/:id',
    summary: 'Cancels an upload session.',
    params: uploadParamsSchema,
    responses: {
      204: { description: 'Cancelled.' },
      400: invalid,
      404: uploadNotFound,
      409: { description: 'Another request is writing the session.', body: 'error' },
    },
  },
];
