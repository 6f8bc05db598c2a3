/**
 * The read-only registry store of pushed content. Tags resolve through the build-index
 * with a short-TTL cache that keeps answering with the last known digest while the
 * build-index is unreachable (when configured to). Content is immutable by digest and
 * comes through the shared content fetch (content-fetch.ts): from the origins once,
 * then from the local disk cache.
 */
import type { ReadableRegistryStore } from '@kraken/registry-api';
import type { ContentCache } from '@kraken/storage-backends';
import type { BuildIndexClient } from '@kraken/build-index';
import { readManifestBytes } from '@kraken/build-index';
import { toReferrerDescriptor } from '@kraken/build-index';
import { createManifestResolver } from '@kraken/build-index';
import type { ContentFetch } from './content-fetch.js';

export interface AgentRegistryStoreOptions {
  readonly content: ContentFetch;
  readonly buildIndex: Pick<
    BuildIndexClient,
    'getTag' | 'getManifest' | 'listTags' | 'listReferrers' | 'listRepositories'
  >;
  /** The local cache the content fetch fills, read for manifests. */
  readonly cache: Pick<ContentCache, 'read'>;
  /** How long a resolved tag is trusted before it is revalidated (ms). */
  readonly tagTtlMs?: number;
  /** How long past its TTL a tag may answer while the build-index fails (ms, default 0). */
  readonly staleTagIfErrorMs?: number;
  /** Upper bound of cached tag and manifest-record entries. */
  readonly maxCachedEntries?: number;
}

export function createAgentRegistryStore(options: AgentRegistryStoreOptions): ReadableRegistryStore {
  const { content, buildIndex, cache } = options;
  const manifests = createManifestResolver({
    buildIndex,
    loadBytes: async (digest) =>
      (await content.ensureCached(digest, 'manifest'))
        ? readManifestBytes(await cache.read(digest), digest)
        : undefined,
    ttlMs: options.tagTtlMs ?? 5_000,
    staleIfErrorMs: options.staleTagIfErrorMs ?? 0,
    ...(options.maxCachedEntries === undefined ? {} : { maxEntries: options.maxCachedEntries }),
  });

  return {
    statBlob: (_repo, digest) => content.statBlob(digest),
    readBlob: (_repo, digest, range) => content.readBlob(digest, range),
    getManifest: (repo, reference) => manifests.resolve(repo, reference),
    listTags: (repo, page) => buildIndex.listTags(repo, page),
    listRepositories: (page) => buildIndex.listRepositories(page),
    async listReferrers(repo, digest) {
      return (await buildIndex.listReferrers(repo, digest)).map(toReferrerDescriptor);
    },
  };
}
