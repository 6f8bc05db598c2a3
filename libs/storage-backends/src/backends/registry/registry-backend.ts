/**
 * Read-only backend over another OCI registry: blobs from `/v2/<repo>/blobs/<digest>`
 * (ranged, redirects to the registry's storage followed), manifests by digest from
 * `/v2/<repo>/manifests/<digest>` (small: read whole, ranges cut here) and tags from
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
import type { Dispatcher } from 'undici';
import {
  InvalidKeyError,
  InvalidRangeError,
  ObjectNotFoundError,
  ReadOnlyBackendError,
  StorageUnavailableError,
  UpstreamResponseError,
} from '../../errors.js';
import { isWellFormedRange, rangeHeader } from '../byte-range.js';
import { rangedBody } from '../http/http-range.js';
import { contentLength, lastModified, readBoundedBody } from '../http/http-transport.js';
import { MANIFEST_MEDIA_TYPES, MAX_MANIFEST_BYTES } from '@kraken/oci-content';
import type { RegistryCredentials } from './registry-auth.js';
import { createRegistryClient } from './registry-client.js';
import { isRepositoryName, registryObjectOf, tagListingOf } from './registry-keys.js';
import { listTagKeys, readTagRecord } from './registry-tags.js';
import type {
  ByteRange,
  ListOptions,
  ListPage,
  NamespaceAwareBackend,
  ObjectStat,
  StorageBackend,
} from '../../storage-backend.js';

const MANIFEST_ACCEPT = [...MANIFEST_MEDIA_TYPES].join(', ');

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

export function createRegistryBackend(options: RegistryBackendOptions): NamespaceAwareBackend {
  const base = new URL(options.url);
  if (base.protocol !== 'http:' && base.protocol !== 'https:')
    throw new TypeError(`invalid registry url "${options.url}": only http and https are supported`);
  if (options.repository !== undefined && !isRepositoryName(options.repository))
    throw new TypeError(`invalid repository "${options.repository}"`);
  const name = options.name ?? `registry:${base.origin}${base.pathname.replace(/\/+$/, '')}`;
  const client = createRegistryClient({
    url: base,
    name,
    now: options.now ?? Date.now,
    ...(options.headers === undefined ? {} : { headers: options.headers }),
    ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
    ...(options.dispatcher === undefined ? {} : { dispatcher: options.dispatcher }),
  });

  function view(repository: string | undefined): StorageBackend {
    const blobPath = (key: string, digest: string) => {
      if (repository === undefined)
        throw new InvalidKeyError(
          key,
          `backend ${name} has no repository: configure one, or route by namespace`,
        );
      return `${repository}/blobs/${digest}`;
    };

    const manifestPath = (key: string, digest: string) =>
      blobPath(key, digest).replace(/\/blobs\/([^/]+)$/, '/manifests/$1');

    async function readManifest(key: string, digest: string, range?: ByteRange): Promise<Readable> {
      const res = await client.send({
        method: 'GET',
        path: manifestPath(key, digest),
        repository,
        headers: { accept: MANIFEST_ACCEPT },
      });
      if (res.status === 404) {
        await res.body.dump();
        throw new ObjectNotFoundError(key);
      }
      if (res.status !== 200) throw await client.unexpected(res, `manifest ${digest}`);
      const bytes = await readBoundedBody(res.body, MAX_MANIFEST_BYTES);
      if (bytes === undefined)
        throw new UpstreamResponseError(
          name,
          `manifest ${digest} is larger than ${MAX_MANIFEST_BYTES} bytes`,
        );
      if (range === undefined) return Readable.from([bytes]);
      if (!isWellFormedRange(range) || range.start >= bytes.length)
        throw new InvalidRangeError(key, range, bytes.length);
      return Readable.from([bytes.subarray(range.start, Math.min(range.end, bytes.length - 1) + 1)]);
    }

    const backend: StorageBackend = {
      name,

      async stat(key: string): Promise<ObjectStat | undefined> {
        const object = registryObjectOf(key);
        if (object === undefined) return undefined;
        if (object.kind === 'tag') {
          const record = await readTagRecord(client, object.repository, object.tag);
          return record === undefined
            ? undefined
            : { size: record.bytes.length, modifiedAt: record.modifiedAt };
        }
        const manifest = object.kind === 'manifest';
        const res = await client.send({
          method: 'HEAD',
          path: manifest ? manifestPath(key, object.digest.value) : blobPath(key, object.digest.value),
          repository,
          ...(manifest ? { headers: { accept: MANIFEST_ACCEPT } } : {}),
        });
        if (res.status !== 200 && res.status !== 404)
          throw await client.unexpected(res, `${object.kind} ${object.digest.value}`);
        await res.body.dump();
        if (res.status === 404) return undefined;
        const size = contentLength(res.headers);
        if (size === undefined)
          throw new UpstreamResponseError(name, `HEAD of ${object.kind} ${object.digest.value} gave no size`);
        return { size, modifiedAt: lastModified(res.headers) };
      },

      async read(key: string, range?: ByteRange): Promise<Readable> {
        const object = registryObjectOf(key);
        if (object === undefined) throw new ObjectNotFoundError(key);
        if (object.kind === 'tag') {
          const record = await readTagRecord(client, object.repository, object.tag);
          if (record === undefined) throw new ObjectNotFoundError(key);
          const size = record.bytes.length;
          if (range === undefined) return Readable.from([record.bytes]);
          if (!isWellFormedRange(range) || range.start >= size) throw new InvalidRangeError(key, range, size);
          return Readable.from([record.bytes.subarray(range.start, Math.min(range.end, size - 1) + 1)]);
        }
        if (object.kind === 'manifest') return readManifest(key, object.digest.value, range);
        const path = blobPath(key, object.digest.value);
        if (range !== undefined && !isWellFormedRange(range)) {
          const s = await backend.stat(key);
          if (s === undefined) throw new ObjectNotFoundError(key);
          throw new InvalidRangeError(key, range, s.size);
        }
        const res = await client.send({
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
        return listTagKeys(client, listing, listOptions);
      },

      async delete(key: string): Promise<boolean> {
        registryObjectOf(key);
        throw new ReadOnlyBackendError(name, 'delete');
      },

      async check(signal?: AbortSignal): Promise<void> {
        try {
          const res = await client.send({
            method: 'GET',
            path: '',
            repository: undefined,
            ...(signal ? { signal } : {}),
          });
          if (res.status !== 200) throw await client.unexpected(res, 'GET /v2/');
          await res.body.dump();
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
    close: () => client.close(),
  };
}
