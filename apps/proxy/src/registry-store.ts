/**
 * The read-write registry store behind the proxy: blobs and manifest documents go to
 * the origins (content-addressed, shared by every repository); which manifests belong
 * to a repository, its tags and its referrers live in the build-index. Manifests are
 * written to the origins before the build-index learns of them, so the build-index can
 * check that everything a tag points at exists. Reads of manifests go through a
 * ManifestResolver, so a hot tag costs no round trip to the build-index or origins.
 */
import { Readable } from 'node:stream';
import type { ParsedManifest } from '@kraken/oci-content';
import type { StoredManifest, WritableRegistryStore } from '@kraken/registry-api';
import type { ContentCache } from '@kraken/storage-backends';
import type { BuildIndexClient } from '@kraken/build-index';
import type { OriginClient } from '@kraken/origin';
import { readManifestBytes } from '@kraken/build-index';
import { toManifestRecord, toReferrerDescriptor } from '@kraken/build-index';
import { createManifestResolver } from '@kraken/build-index';

export interface ProxyRegistryStoreOptions {
  origin: OriginClient;
  buildIndex: BuildIndexClient;
  /**
   * How long this proxy trusts a tag or membership it has read (ms). Writes through
   * this proxy are visible at once; writes through another proxy after at most this long.
   */
  cacheTtlMs?: number;
  /** Memory for cached manifest documents (bytes). */
  manifestCacheBytes?: number;
  /**
   * Local disk cache of blobs pushed through this proxy: a pull right after a push (a CI
   * pipeline's usual shape) is served from here instead of being relayed from an origin.
   */
  blobCache?: Pick<ContentCache, 'stat' | 'read' | 'adopt'>;
  /** Told when the best-effort blob cache fails; the request itself still succeeds. */
  onCacheError?: (err: unknown) => void;
}

export function createProxyRegistryStore(options: ProxyRegistryStoreOptions): WritableRegistryStore {
  const { origin, buildIndex, blobCache } = options;
  const manifests = createManifestResolver({
    buildIndex,
    loadBytes: async (digest) => {
      const stream = await origin.getBlob(digest);
      return stream === undefined ? undefined : readManifestBytes(stream, digest);
    },
    ...(options.cacheTtlMs === undefined ? {} : { ttlMs: options.cacheTtlMs }),
    ...(options.manifestCacheBytes === undefined ? {} : { maxCachedBytes: options.manifestCacheBytes }),
  });

  return {
    async statBlob(_repo, digest) {
      return (await blobCache?.stat(digest)) ?? origin.statBlob(digest);
    },

    async readBlob(_repo, digest, range) {
      if (blobCache !== undefined && (await blobCache.stat(digest)) !== undefined) {
        try {
          return await blobCache.read(digest, range);
        } catch (err) {
          // Evicted between stat and read, or unreadable: the origins still have it.
          options.onCacheError?.(err);
        }
      }
      return origin.getBlob(digest, range === undefined ? {} : { range });
    },

    getManifest: (repo, reference) => manifests.resolve(repo, reference),

    listTags: (repo, page) => buildIndex.listTags(repo, page),

    listRepositories: (page) => buildIndex.listRepositories(page),

    async listReferrers(repo, digest) {
      return (await buildIndex.listReferrers(repo, digest)).map(toReferrerDescriptor);
    },

    async putBlob(repo, blob) {
      // Content-addressed: a blob the origins already hold needs no second upload.
      const existing = await origin.statBlob(blob.digest);
      // An opener, not a stream: an upload cut off by a failing origin is sent again to the next.
      if (existing?.size !== blob.size)
        await origin.putBlob(blob.digest, () => blob.open(), { size: blob.size, namespace: repo });
      if (blobCache !== undefined && blob.file !== undefined) {
        await blobCache
          .adopt(blob.digest, blob.file, blob.size)
          .catch((err: unknown) => options.onCacheError?.(err));
      }
    },

    async mountBlob(_fromRepo, _toRepo, digest) {
      return (await origin.statBlob(digest)) !== undefined;
    },

    async putManifest(repo, manifest: StoredManifest, parsed: ParsedManifest, tag?: string) {
      if ((await origin.statBlob(manifest.digest)) === undefined) {
        await origin.putBlob(manifest.digest, () => Readable.from([manifest.bytes]), {
          size: manifest.bytes.length,
          namespace: repo,
        });
      }
      const record = toManifestRecord(manifest, parsed);
      // The record first: it carries the media type the client declared, which a tag
      // write alone would have to guess from the document.
      await buildIndex.putManifest(repo, record);
      if (tag !== undefined) await buildIndex.putTag(repo, tag, manifest.digest);
      manifests.rememberManifest(repo, record, manifest.bytes, manifest.digest);
      if (tag !== undefined) manifests.rememberTag(repo, tag, manifest.digest);
    },

    async deleteManifest(repo, reference) {
      if ('digest' in reference) {
        manifests.forgetManifest(repo, reference.digest);
        return buildIndex.deleteManifest(repo, reference.digest);
      }
      manifests.forgetTag(repo, reference.tag);
      return buildIndex.deleteTag(repo, reference.tag);
    },
  };
}
