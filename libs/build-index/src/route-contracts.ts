/**
 * The build-index's /v1/ routes as data (see RouteContract in @kraken/service-kit), made
 * of the schemas the handlers parse with: the tag API (api/), the replica routes among
 * the nodes of a cluster (cluster/) and the replication routes between clusters
 * (replication/). The build-index's API document is rendered from these, and
 * route-contracts.test.ts checks that they name every route served.
 */
import type { ResponseContract, RouteContract } from '@kraken/service-kit';
import { z } from 'zod';
import { pageQuerySchema } from './api/routes.js';
import {
  REPLICATED_FROM_HEADER,
  manifestParamsSchema,
  manifestRecordSchema,
  referrerListSchema,
  repositoryListSchema,
  repositoryParamsSchema,
  tagAnswerSchema,
  tagListSchema,
  tagParamsSchema,
  tagPutSchema,
} from './contracts.js';
import {
  replicaApplyResultSchema,
  replicaDeleteResultSchema,
  replicaTagListSchema,
  replicaTagPutSchema,
  replicaTombstoneSchema,
} from './cluster/replica-protocol.js';
import {
  changeResultSchema,
  clusterDescriptorSchema,
  tagChangeSchema,
  versionedTagListSchema,
} from './replication/change-protocol.js';
import { replicationTagsParamsSchema } from './replication/change-routes.js';
import { replicationRuleSchema } from './replication/rule-config.js';
import { ruleNameParamsSchema } from './replication/rule-routes.js';
import { ruleRecordSchema, ruleViewSchema } from './replication/rule-store.js';
import { ruleApplyResultSchema, ruleRecordListSchema } from './replication/rule-sync.js';
import { replicationStatusSchema } from './replication/status.js';

const invalid: ResponseContract = { description: 'A malformed name, tag, digest or body.', body: 'error' };
const notFound = (what: string): ResponseContract => ({ description: `No such ${what}.`, body: 'error' });
const missingOnOrigins: ResponseContract = {
  description: 'The manifest or content it references is missing on the origins; `detail.missing` lists it.',
  body: 'error',
};

const replicatedFromHeaders = z.object({
  [REPLICATED_FROM_HEADER]: z
    .string()
    .optional()
    .describe('The cluster a replicated record came from; it is not sent back there.'),
});

const tagApi: RouteContract[] = [
  {
    method: 'GET',
    path: '/v1/repositories',
    summary: 'The repositories, in order, a page at a time.',
    query: pageQuerySchema,
    responses: { 200: { description: 'A page.', body: repositoryListSchema }, 400: invalid },
  },
  {
    method: 'GET',
    path: '/v1/repositories/:repo/tags',
    summary: "A repository's tags, in order, a page at a time.",
    params: repositoryParamsSchema,
    query: pageQuerySchema,
    responses: {
      200: { description: 'A page.', body: tagListSchema },
      400: invalid,
      404: notFound('repository'),
    },
  },
  {
    method: 'GET',
    path: '/v1/repositories/:repo/tags/:tag',
    summary: 'The manifest a tag points at.',
    params: tagParamsSchema,
    responses: {
      200: { description: 'The tag.', body: tagAnswerSchema },
      400: invalid,
      404: notFound('tag'),
    },
  },
  {
    method: 'PUT',
    path: '/v1/repositories/:repo/tags/:tag',
    summary: 'Points a tag at a manifest whose content is all on the origins.',
    params: tagParamsSchema,
    body: tagPutSchema,
    responses: {
      200: { description: 'Stored, and copied to the other nodes.', body: tagAnswerSchema },
      400: invalid,
      409: missingOnOrigins,
    },
  },
  {
    method: 'DELETE',
    path: '/v1/repositories/:repo/tags/:tag',
    summary: 'Deletes a tag.',
    params: tagParamsSchema,
    responses: { 204: { description: 'Deleted.' }, 400: invalid, 404: notFound('tag') },
  },
  {
    method: 'GET',
    path: '/v1/repositories/:repo/manifests/:digest',
    summary: 'The record of a manifest of the repository.',
    params: manifestParamsSchema,
    responses: {
      200: { description: 'The record.', body: manifestRecordSchema },
      400: invalid,
      404: notFound('manifest in the repository'),
    },
  },
  {
    method: 'PUT',
    path: '/v1/repositories/:repo/manifests/:digest',
    summary: 'Records a manifest (held by the origins) as a member of the repository.',
    params: manifestParamsSchema,
    headers: replicatedFromHeaders,
    body: manifestRecordSchema,
    responses: {
      200: { description: 'Stored.', body: manifestRecordSchema },
      400: invalid,
      409: missingOnOrigins,
    },
  },
  {
    method: 'DELETE',
    path: '/v1/repositories/:repo/manifests/:digest',
    summary: 'Deletes a manifest record, and the tags that point at it.',
    params: manifestParamsSchema,
    responses: {
      204: { description: 'Deleted.' },
      400: invalid,
      404: notFound('manifest in the repository'),
    },
  },
  {
    method: 'GET',
    path: '/v1/repositories/:repo/referrers/:digest',
    summary: 'The records of the manifests whose subject is the digest.',
    params: manifestParamsSchema,
    responses: { 200: { description: 'The referrers.', body: referrerListSchema }, 400: invalid },
  },
];

const replicaApi: RouteContract[] = [
  {
    method: 'PUT',
    path: '/v1/replica/repositories/:repo/tags/:tag',
    summary: 'Applies a tag write replicated from another node of the cluster, if newer.',
    params: tagParamsSchema,
    body: replicaTagPutSchema,
    responses: {
      200: {
        description: 'Applied, or not because the node holds a newer one.',
        body: replicaApplyResultSchema,
      },
      400: invalid,
    },
  },
  {
    method: 'GET',
    path: '/v1/replica/repositories/:repo/tags',
    summary: "A repository's tags and tombstones with their versions, for anti-entropy.",
    params: repositoryParamsSchema,
    responses: {
      200: { description: 'The listing.', body: replicaTagListSchema },
      400: invalid,
      404: notFound('repository'),
    },
  },
  {
    method: 'DELETE',
    path: '/v1/replica/repositories/:repo/tags/:tag',
    summary: 'Applies a tag delete replicated from another node of the cluster.',
    params: tagParamsSchema,
    query: replicaTombstoneSchema,
    responses: {
      200: {
        description: 'Applied, or not because the node holds a newer write.',
        body: replicaDeleteResultSchema,
      },
      400: invalid,
    },
  },
  {
    method: 'GET',
    path: '/v1/replica/replication/rules',
    summary: "The node's versioned records of API replication rules, for the other nodes.",
    responses: { 200: { description: 'The records.', body: ruleRecordListSchema } },
  },
  {
    method: 'PUT',
    path: '/v1/replica/replication/rules/:name',
    summary: 'Applies a rule record pushed by another node of the cluster, if newer.',
    params: ruleNameParamsSchema,
    body: ruleRecordSchema,
    responses: { 200: { description: 'Applied or not.', body: ruleApplyResultSchema }, 400: invalid },
  },
];

const ruleNotFound = notFound('replication rule');
const configRule: ResponseContract = {
  description: 'The rule comes from the config file, which the API cannot change.',
  body: 'error',
};
const ruleInvalid: ResponseContract = {
  description: 'Not a valid rule; the message names the field.',
  body: 'error',
};

const replicationApi: RouteContract[] = [
  {
    method: 'PUT',
    path: '/v1/replication/changes',
    summary: 'Applies a tag change from another cluster, if newer; a put needs its content on the origins.',
    body: tagChangeSchema,
    responses: {
      200: { description: 'Applied or stale, and what the node holds now.', body: changeResultSchema },
      400: invalid,
      409: missingOnOrigins,
    },
  },
  {
    method: 'GET',
    path: '/v1/replication/tags/:repository',
    summary: "A repository's tags and tombstones with versions, for another cluster's backfill.",
    params: replicationTagsParamsSchema,
    responses: {
      200: { description: 'The listing.', body: versionedTagListSchema },
      400: invalid,
      404: notFound('repository'),
    },
  },
  {
    method: 'GET',
    path: '/v1/replication/cluster',
    summary: "This cluster's id, build-index nodes and origin ring, for `discover` destinations.",
    responses: { 200: { description: 'The cluster.', body: clusterDescriptorSchema } },
  },
  {
    method: 'GET',
    path: '/v1/replication/rules',
    summary: 'Every replication rule, from the config file and from the API.',
    responses: { 200: { description: 'The rules.', body: z.object({ rules: z.array(ruleViewSchema) }) } },
  },
  {
    method: 'POST',
    path: '/v1/replication/rules',
    summary: 'Creates a replication rule.',
    body: replicationRuleSchema,
    responses: {
      201: { description: 'Created.', body: ruleViewSchema },
      400: ruleInvalid,
      409: { description: 'A rule of that name exists, or its destination is this cluster.', body: 'error' },
    },
  },
  {
    method: 'GET',
    path: '/v1/replication/rules/:name',
    summary: 'One replication rule.',
    params: ruleNameParamsSchema,
    responses: { 200: { description: 'The rule.', body: ruleViewSchema }, 404: ruleNotFound },
  },
  {
    method: 'PUT',
    path: '/v1/replication/rules/:name',
    summary: 'Creates or replaces a replication rule made through the API.',
    params: ruleNameParamsSchema,
    body: replicationRuleSchema.partial({ name: true }),
    responses: {
      200: { description: 'Replaced.', body: ruleViewSchema },
      201: { description: 'Created.', body: ruleViewSchema },
      400: ruleInvalid,
      409: configRule,
    },
  },
  {
    method: 'DELETE',
    path: '/v1/replication/rules/:name',
    summary: 'Deletes a replication rule made through the API.',
    params: ruleNameParamsSchema,
    responses: { 204: { description: 'Deleted.' }, 404: ruleNotFound, 409: configRule },
  },
  {
    method: 'GET',
    path: '/v1/replication/status',
    summary: 'Replication on this node, per rule: its queue, errors, lag and backfill.',
    responses: { 200: { description: 'The status.', body: replicationStatusSchema } },
  },
];

export const buildIndexRouteContracts: readonly RouteContract[] = [
  ...tagApi,
  ...replicaApi,
  ...replicationApi,
];
