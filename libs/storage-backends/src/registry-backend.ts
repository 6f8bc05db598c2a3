/**
 * Read-only backend over another OCI registry: blobs from `/v2/<repo>/blobs/<digest>`
 * (ranged, redirects to the registry's storage followed) and tags from
 * `/v2/<repo>/manifests/<tag>` and `/v2/<repo>/tags/list`, with anonymous, basic or
 * bearer-token auth (registry-auth.ts). Keys map to registry objects as registry-keys.ts
 * describes; any other valid key is not held here (stat undefined, read not found).
 *
 * Blob keys carry no repository, so the backend is bound to one: `repository` from
 * config, or the namespace when the router asks `forNamespace(namespace)` (the config
 * value wins when both are given). Views from forNamespace share the connection pool
 * and token cache; closing a view does nothing, closing the backend closes them all.
 */
import { Readable } from 'node:stream';
import { digestOf, MANIFEST_MEDIA_TYPES, MAX_MANIFEST_BYTES, tryParseDigest } from '@kraken/oci-content';
import type { Dispatcher } from 'undici';
import { z } from 'zod';
import {
  InvalidKeyError,
  InvalidRangeError,
  ObjectNotFoundError,
  ReadOnlyBackendError,
  RegistryAuthError,
  StorageUnavailableError,
  UpstreamResponseError,
} from './errors.js';
import { headersSchema } from './http-backend.js';
import { isWellFormedRange, rangeHeader, rangedBody } from './http-range.js';
import {
  contentLength,
  createHttpTransport,
  header,
  lastModified,
  readBounded,
  type HttpResponse,
} from './http-transport.js';
import type { NamespaceAwareBackend } from './namespace-router.js';
import { createRegistryAuth, type RegistryCredentials } from './registry-auth.js';
import { isRepositoryName, isTagName, registryObjectOf, tagKey, tagListingOf } from './registry-keys.js';
import type { ByteRange, ListOptions, ListPage, ObjectStat, StorageBackend } from './storage-backend.js';

export const registryBackendSchema = z
  .object({
    type: z.literal('registry').describe('Read-only blobs and tags from another OCI registry.'),
    name: z
      .string()
      .min(1)
      .optional()
      .describe('Name in logs, metrics and readiness (default "registry:<url>").'),
    url: z
      .url({ protocol: /^https?$/ })
      .describe('Base URL of the registry, e.g. https://registry-1.docker.io (the /v2/ API is below it).'),
    repository: z
      .string()
      .refine(isRepositoryName, 'not a valid repository name')
      .optional()
      .describe('Repository of every blob; when absent, the namespace a blob is requested for.'),
    username: z.string().min(1).optional().describe('User for basic auth or for the token service.'),
    password: z.string().optional().describe('Password or access token for `username`.'),
    headers: headersSchema,
  })
  .strict()
  .refine((c) => (c.username === undefined) === (c.password === undefined), {
    message: 'username and password go together',
    path: ['password'],
  })
  .describe('Read-only registry backend: pull-through from another registry.');

export type RegistryBackendConfig = z.output<typeof registryBackendSchema>;

export interface RegistryBackendOptions {
  /** Base URL (http or https); the API is `<url>/v2/`. */
  readonly url: string;
  readonly name?: string;
  readonly repository?: string;
  readonly credentials?: RegistryCredentials;
  readonly headers?: Readonly<Record<string, string>>;
  /** undici dispatcher; by default the backend owns a keep-alive Agent. */
  readonly dispatcher?: Dispatcher;
  /** Milliseconds, for token expiry (default Date.now). */
  readonly now?: () => number;
}

const MANIFEST_ACCEPT = [...MANIFEST_MEDIA_TYPES].join(', ');
const MAX_TAG_LIST_BYTES = 16 * 1024 * 1024;
const DEFAULT_PAGE = 1000;
const MAX_PAGE = 10_000;

interface TagRecord {
  readonly bytes: Buffer;
  readonly modifiedAt: Date;
}

export function createRegistryBackend(options: RegistryBackendOptions): NamespaceAwareBackend {
  const base = new URL(options.url);
  if (base.protocol !== 'http:' && base.protocol !== 'https:')
    throw new TypeError(`invalid registry url "${options.url}": only http and https are supported`);
  if (options.repository !== undefined && !isRepositoryName(options.repository))
    throw new TypeError(`invalid repository "${options.repository}"`);
  const basePath = base.pathname.replace(/\/+$/, '');
  const name = options.name ?? `registry:${base.origin}${basePath}`;
  const headers = { ...options.headers };
  const transport = createHttpTransport({
    backend: name,
    ...(options.dispatcher === undefined ? {} : { dispatcher: options.dispatcher }),
  });
  const auth = createRegistryAuth({
    backend: name,
    transport,
    now: options.now ?? Date.now,
    ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
  });

  const apiUrl = (path: string) => new URL(`${base.origin}${basePath}/v2/${path}`);

  /** A request with auth: the known credentials first, one fresh answer to a 401. */
  async function send(req: {
    method: 'GET' | 'HEAD';
    path: string;
    repository: string | undefined;
    headers?: Record<string, string>;
    signal?: AbortSignal;
  }): Promise<HttpResponse> {
    const scope = req.repository === undefined ? undefined : `repository:${req.repository}:pull`;
    const attempt = (authorization: string | undefined) =>
      transport.send({
        method: req.method,
        url: apiUrl(req.path),
        headers: { ...headers, ...req.headers, ...(authorization === undefined ? {} : { authorization }) },
        ...(req.signal === undefined ? {} : { signal: req.signal }),
      });
    const first = await attempt(await auth.authorization(scope, req.signal));
    if (first.status !== 401) return first;
    await first.body.dump();
    const second = await attempt(
      await auth.respond(scope, header(first.headers, 'www-authenticate'), req.signal),
    );
    if (second.status !== 401) return second;
    await second.body.dump();
    throw new RegistryAuthError(name, `the registry refused the credentials for ${scope ?? 'its API'}`);
  }

  function unexpected(res: HttpResponse, what: string): UpstreamResponseError {
    return new UpstreamResponseError(name, `unexpected status ${res.status} for ${what}`, {
      status: res.status,
    });
  }

  async function tagRecord(repository: string, tag: string): Promise<TagRecord | undefined> {
    const path = `${repository}/manifests/${tag}`;
    const what = `manifest ${repository}:${tag}`;
    const res = await send({ method: 'HEAD', path, repository, headers: { accept: MANIFEST_ACCEPT } });
    await res.body.dump();
    if (res.status === 404) return undefined;
    if (res.status !== 200) throw unexpected(res, what);
    let digest = tryParseDigest(header(res.headers, 'docker-content-digest') ?? '');
    if (digest === undefined) {
      // Not every registry names the digest; then it is the digest of the bytes served.
      const got = await send({ method: 'GET', path, repository, headers: { accept: MANIFEST_ACCEPT } });
      if (got.status !== 200) {
        await got.body.dump();
        if (got.status === 404) return undefined;
        throw unexpected(got, what);
      }
      const body = await readBounded(got.body, MAX_MANIFEST_BYTES);
      if (body === undefined)
        throw new UpstreamResponseError(name, `${what} exceeds ${MAX_MANIFEST_BYTES} bytes`);
      digest = digestOf(body);
    }
    const modifiedAt = lastModified(res.headers);
    // The build-index's tag record shape.
    const bytes = Buffer.from(JSON.stringify({ digest: digest.value, updatedAt: modifiedAt.toISOString() }));
    return { bytes, modifiedAt };
  }

  async function listTags(
    listing: { repository: string; tagPrefix: string },
    listOptions: ListOptions,
  ): Promise<ListPage> {
    const limit = Math.min(Math.max(1, Math.floor(listOptions.limit ?? DEFAULT_PAGE)), MAX_PAGE);
    const query = new URLSearchParams({ n: String(limit) });
    const token = listOptions.continuationToken;
    if (token !== undefined) {
      const last = registryObjectOf(token);
      if (last?.kind !== 'tag' || last.repository !== listing.repository)
        throw new InvalidKeyError(token, `not a continuation token of repository ${listing.repository}`);
      query.set('last', last.tag);
    }
    const res = await send({
      method: 'GET',
      path: `${listing.repository}/tags/list?${query}`,
      repository: listing.repository,
    });
    if (res.status === 404) {
      await res.body.dump();
      return { keys: [], continuationToken: undefined };
    }
    if (res.status !== 200) {
      await res.body.dump();
      throw unexpected(res, `tags of ${listing.repository}`);
    }
    const body = await readBounded(res.body, MAX_TAG_LIST_BYTES);
    const parsed = z
      .object({ tags: z.array(z.string()).nullish() })
      .safeParse(body === undefined ? undefined : safeJson(body));
    if (!parsed.success) throw new UpstreamResponseError(name, `malformed tag list of ${listing.repository}`);
    const tags = (parsed.data.tags ?? []).filter(isTagName).slice(0, limit);
    const more = /rel="?next"?/.test(header(res.headers, 'link') ?? '');
    const last = tags[tags.length - 1];
    const keys = tags
      .filter((t) => t.startsWith(listing.tagPrefix))
      .map((t) => tagKey(listing.repository, t));
    return {
      keys,
      continuationToken: more && last !== undefined ? tagKey(listing.repository, last) : undefined,
    };
  }

  function view(repository: string | undefined): StorageBackend {
    const blobPath = (key: string, digest: string) => {
      if (repository === undefined)
        throw new InvalidKeyError(
          key,
          `backend ${name} has no repository: configure one, or route by namespace`,
        );
      return `${repository}/blobs/${digest}`;
    };

    const backend: StorageBackend = {
      name,

      async stat(key: string): Promise<ObjectStat | undefined> {
        const object = registryObjectOf(key);
        if (object === undefined) return undefined;
        if (object.kind === 'tag') {
          const record = await tagRecord(object.repository, object.tag);
          return record === undefined
            ? undefined
            : { size: record.bytes.length, modifiedAt: record.modifiedAt };
        }
        const res = await send({ method: 'HEAD', path: blobPath(key, object.digest.value), repository });
        await res.body.dump();
        if (res.status === 404) return undefined;
        if (res.status !== 200) throw unexpected(res, `blob ${object.digest.value}`);
        const size = contentLength(res.headers);
        if (size === undefined)
          throw new UpstreamResponseError(name, `HEAD of blob ${object.digest.value} gave no size`);
        return { size, modifiedAt: lastModified(res.headers) };
      },

      async read(key: string, range?: ByteRange): Promise<Readable> {
        const object = registryObjectOf(key);
        if (object === undefined) throw new ObjectNotFoundError(key);
        if (object.kind === 'tag') {
          const record = await tagRecord(object.repository, object.tag);
          if (record === undefined) throw new ObjectNotFoundError(key);
          const size = record.bytes.length;
          if (range === undefined) return Readable.from([record.bytes]);
          if (!isWellFormedRange(range) || range.start >= size) throw new InvalidRangeError(key, range, size);
          return Readable.from([record.bytes.subarray(range.start, Math.min(range.end, size - 1) + 1)]);
        }
        const path = blobPath(key, object.digest.value);
        if (range !== undefined && !isWellFormedRange(range)) {
          const s = await backend.stat(key);
          if (s === undefined) throw new ObjectNotFoundError(key);
          throw new InvalidRangeError(key, range, s.size);
        }
        const res = await send({
          method: 'GET',
          path,
          repository,
          ...(range === undefined ? {} : { headers: { range: rangeHeader(range) } }),
        });
        return rangedBody({ backend: name, key, range, response: res });
      },

      async write(key: string): Promise<ObjectStat> {
        registryObjectOf(key);
        throw new ReadOnlyBackendError(name, 'write');
      },

      async list(listOptions: ListOptions = {}): Promise<ListPage> {
        const listing = tagListingOf(listOptions.prefix ?? '');
        // Registries list tags, not blobs: every other prefix holds nothing listable.
        if (listing === undefined) return { keys: [], continuationToken: undefined };
        return listTags(listing, listOptions);
      },

      async delete(key: string): Promise<boolean> {
        registryObjectOf(key);
        throw new ReadOnlyBackendError(name, 'delete');
      },

      async check(signal?: AbortSignal): Promise<void> {
        try {
          const res = await send({
            method: 'GET',
            path: '',
            repository: undefined,
            ...(signal ? { signal } : {}),
          });
          await res.body.dump();
          if (res.status !== 200) throw unexpected(res, 'GET /v2/');
        } catch (err) {
          throw err instanceof StorageUnavailableError ? err : new StorageUnavailableError(name, err);
        }
      },

      // Views share the root's transport; only the root closes it.
      close: async () => {},
    };
    return backend;
  }

  const root = view(options.repository);
  return {
    ...root,
    forNamespace(namespace: string): StorageBackend {
      if (options.repository !== undefined) return root;
      if (!isRepositoryName(namespace))
        throw new InvalidKeyError(namespace, `namespace is not a repository name that ${name} can serve`);
      return view(namespace);
    },
    close: () => transport.close(),
  };
}

function safeJson(bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}
