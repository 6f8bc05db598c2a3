/**
 * Content discovery: the `/v2/` base endpoint, tag listing and the catalog (paginated
 * with `n`/`last` and a `Link: <...>; rel="next"` header), and the referrers API.
 */
import type { FastifyReply } from 'fastify';
import { MediaType, type Digest } from '@kraken/oci-content';
import {
  EndpointNotFoundError,
  NameUnknownError,
  PaginationInvalidError,
  UnsupportedError,
} from '../errors.js';
import type { EndpointHandler, RegistryContext } from '../registry-context.js';
import { isTag, repositoryNameSchema } from '../request/registry-names.js';
import type { Page } from '../registry-store.js';
import { queryOf, single, type Query } from '../request/request-params.js';

export const getBase: EndpointHandler<unknown> = async (_ctx, _request, reply) => {
  reply.code(200).header('content-type', 'application/json').send('{}');
};

export const listTags: EndpointHandler<{ readonly repo: string }> = async (ctx, request, reply, { repo }) => {
  const page = parsePage(ctx, queryOf(request), isTag);
  const tags = await ctx.store.listTags(repo, lookahead(page));
  if (tags === undefined) throw new NameUnknownError(repo);
  const { entries, next } = cut(tags, page);
  if (next !== undefined) reply.header('link', nextLink(`/v2/${repo}/tags/list`, page.n, next));
  sendJson(reply, 'application/json', { name: repo, tags: entries });
};

export const listRepositories: EndpointHandler<unknown> = async (ctx, request, reply) => {
  if (ctx.store.listRepositories === undefined) throw new UnsupportedError('the catalog is not available');
  const page = parsePage(ctx, queryOf(request), (s) => repositoryNameSchema.safeParse(s).success);
  const repositories = await ctx.store.listRepositories(lookahead(page));
  const { entries, next } = cut(repositories, page);
  if (next !== undefined) reply.header('link', nextLink('/v2/_catalog', page.n, next));
  sendJson(reply, 'application/json', { repositories: entries });
};

export const listReferrers: EndpointHandler<{ readonly repo: string; readonly digest: Digest }> = async (
  ctx,
  request,
  reply,
  { repo, digest },
) => {
  if (ctx.store.listReferrers === undefined)
    throw new EndpointNotFoundError('the referrers API is not available');
  const artifactType = single(queryOf(request)['artifactType']);
  let manifests = await ctx.store.listReferrers(repo, digest);
  if (artifactType !== undefined && artifactType !== '') {
    manifests = manifests.filter((d) => d.artifactType === artifactType);
    reply.header('oci-filters-applied', 'artifactType');
  }
  sendJson(reply, MediaType.ociIndex, { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests });
};

interface ResolvedPage {
  /** Entries to return at most. */
  readonly n: number;
  readonly last: string | undefined;
}

function parsePage(ctx: RegistryContext, query: Query, validLast: (s: string) => boolean): ResolvedPage {
  const nParam = single(query['n']);
  const last = single(query['last']);
  let n = ctx.limits.maxPageSize;
  if (nParam !== undefined) {
    if (!/^\d{1,9}$/.test(nParam)) throw new PaginationInvalidError(`invalid n "${nParam.slice(0, 32)}"`);
    n = Math.min(Number(nParam), ctx.limits.maxPageSize);
  }
  if (last !== undefined && !validLast(last))
    throw new PaginationInvalidError(`invalid last "${last.slice(0, 64)}"`);
  return { n, last };
}

/** Asks the store for one entry more than the page, to learn whether a next page exists. */
function lookahead(page: ResolvedPage): Page {
  return { n: page.n === 0 ? 0 : page.n + 1, last: page.last };
}

function cut(entries: string[], page: ResolvedPage): { entries: string[]; next: string | undefined } {
  if (entries.length <= page.n) return { entries, next: undefined };
  const kept = entries.slice(0, page.n);
  return { entries: kept, next: kept[kept.length - 1] };
}

function nextLink(path: string, n: number, last: string): string {
  return `<${path}?n=${n}&last=${encodeURIComponent(last)}>; rel="next"`;
}

/** Sent as bytes: fastify would append `; charset=utf-8` to a string, and clients compare the media type exactly. */
function sendJson(reply: FastifyReply, contentType: string, body: unknown): void {
  reply
    .code(200)
    .header('content-type', contentType)
    .send(Buffer.from(JSON.stringify(body)));
}
