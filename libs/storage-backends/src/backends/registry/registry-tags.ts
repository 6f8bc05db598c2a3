/**
 * Tags of a registry repository as backend objects. A tag reads as the build-index's
 * tag record `{digest, updatedAt}` (digest from Docker-Content-Digest, or of the
 * manifest bytes when a registry omits it; updatedAt from Last-Modified, else the
 * epoch). Listing gathers the whole tag list, following `Link: rel="next"` pages,
 * then sorts and pages it here: distribution 2.8 ignores `n` and `last` and returns
 * tags unsorted, and the StorageBackend contract wants lexical pages.
 */
import { digestOf, MANIFEST_MEDIA_TYPES, MAX_MANIFEST_BYTES, tryParseDigest } from '@kraken/oci-content';
import { z } from 'zod';
import { InvalidKeyError, UpstreamResponseError } from '../../errors.js';
import { header, lastModified, readBoundedBody } from '../http/http-transport.js';
import type { RegistryClient } from './registry-client.js';
import { isTagName, registryObjectOf, tagKey } from './registry-keys.js';
import type { ListOptions, ListPage } from '../../storage-backend.js';

const MANIFEST_ACCEPT = [...MANIFEST_MEDIA_TYPES].join(', ');
const MAX_TAG_LIST_BYTES = 16 * 1024 * 1024;
const MAX_TAG_PAGES = 100;
const DEFAULT_PAGE = 1000;
const MAX_PAGE = 10_000;
const tagListSchema = z.object({ tags: z.array(z.string()).nullish() });

export interface TagRecord {
  readonly bytes: Buffer;
  readonly modifiedAt: Date;
}

/** The tag's record, or undefined when the repository or tag does not exist. */
export async function readTagRecord(
  client: RegistryClient,
  repository: string,
  tag: string,
): Promise<TagRecord | undefined> {
  const request = {
    path: `${repository}/manifests/${tag}`,
    repository,
    headers: { accept: MANIFEST_ACCEPT },
  };
  const what = `manifest ${repository}:${tag}`;
  const head = await client.send({ method: 'HEAD', ...request });
  if (head.status === 404) {
    await head.body.dump();
    return undefined;
  }
  if (head.status !== 200) throw await client.unexpected(head, what);
  await head.body.dump();
  let digest = tryParseDigest(header(head.headers, 'docker-content-digest') ?? '');
  if (digest === undefined) {
    const got = await client.send({ method: 'GET', ...request });
    if (got.status === 404) {
      await got.body.dump();
      return undefined;
    }
    if (got.status !== 200) throw await client.unexpected(got, what);
    const body = await readBoundedBody(got.body, MAX_MANIFEST_BYTES);
    if (body === undefined)
      throw new UpstreamResponseError(client.name, `${what} exceeds ${MAX_MANIFEST_BYTES} bytes`);
    digest = digestOf(body);
  }
  const modifiedAt = lastModified(head.headers);
  const bytes = Buffer.from(JSON.stringify({ digest: digest.value, updatedAt: modifiedAt.toISOString() }));
  return { bytes, modifiedAt };
}

/** Every tag of `repository`, sorted; undefined when the repository does not exist. */
async function allTags(client: RegistryClient, repository: string): Promise<string[] | undefined> {
  const listPath = `${repository}/tags/list`;
  const listUrl = client.apiUrl(listPath);
  const tags = new Set<string>();
  let path = listPath;
  for (let page = 0; page < MAX_TAG_PAGES; page++) {
    const res = await client.send({ method: 'GET', path, repository });
    if (res.status === 404 && page === 0) {
      await res.body.dump();
      return undefined;
    }
    if (res.status !== 200) throw await client.unexpected(res, `tags of ${repository}`);
    const body = await readBoundedBody(res.body, MAX_TAG_LIST_BYTES);
    const parsed = tagListSchema.safeParse(body === undefined ? undefined : parseJson(body));
    if (!parsed.success) throw new UpstreamResponseError(client.name, `malformed tag list of ${repository}`);
    for (const tag of parsed.data.tags ?? []) if (isTagName(tag)) tags.add(tag);
    const next = /<([^>]*)>\s*;\s*rel="?next"?/.exec(header(res.headers, 'link') ?? '')?.[1];
    if (next === undefined) return [...tags].sort();
    const nextUrl = new URL(next, listUrl);
    // Only the same listing is followed: a Link elsewhere must not steer our requests.
    if (nextUrl.origin !== listUrl.origin || nextUrl.pathname !== listUrl.pathname)
      throw new UpstreamResponseError(client.name, `tag list of ${repository} links elsewhere`);
    path = `${listPath}${nextUrl.search}`;
  }
  throw new UpstreamResponseError(
    client.name,
    `tag list of ${repository} has more than ${MAX_TAG_PAGES} pages`,
  );
}

/** A lexical page of tag keys under `repositories/<repo>/_tags/<tagPrefix>`. */
export async function listTagKeys(
  client: RegistryClient,
  listing: { repository: string; tagPrefix: string },
  options: ListOptions,
): Promise<ListPage> {
  const limit = Math.min(Math.max(1, Math.floor(options.limit ?? DEFAULT_PAGE)), MAX_PAGE);
  let after = '';
  const token = options.continuationToken;
  if (token !== undefined) {
    const last = registryObjectOf(token);
    if (last?.kind !== 'tag' || last.repository !== listing.repository)
      throw new InvalidKeyError(token, `not a continuation token of repository ${listing.repository}`);
    after = last.tag;
  }
  const tags = (await allTags(client, listing.repository)) ?? [];
  const matching = tags.filter((t) => t > after && t.startsWith(listing.tagPrefix));
  const page = matching.slice(0, limit).map((t) => tagKey(listing.repository, t));
  return { keys: page, continuationToken: matching.length > limit ? page[page.length - 1] : undefined };
}

function parseJson(bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}
