/**
 * The read-write registry store behind the proxy: blobs and manifest documents go to
 * the origins (content-addressed, shared by every repository); which manifests belong
 * to a repository, its tags and its referrers live in the build-index. Manifests are
 * written to the origins before the build-index learns of them, so the build-index can
 * check that everything a tag points at exists.
 */
import { Readable } from 'node:stream';
import type { Digest, ParsedManifest } from '@kraken/oci-content';
import type { StoredManifest, WritableRegistryStore } from '@kraken/registry-api';
import type { BuildIndexClient, OriginClient } from './client-types.js';
import { toManifestRecord, toReferrerDescriptor } from './manifest-record.js';
import { readManifestBytes } from './manifest-fetch.js';

export interface ProxyRegistryStoreOptions {
  origin: OriginClient;
  buildIndex: BuildIndexClient;
}

export function createProxyRegistryStore(options: ProxyRegistryStoreOptions): WritableRegistryStore {
  const { origin, buildIndex } = options;

  async function manifestByDigest(repo: string, digest: Digest): Promise<StoredManifest | undefined> {
    const record = await buildIndex.getManifest(repo, digest);
    if (record === undefined) return undefined;
    const stream = await origin.getBlob(digest);
    if (stream === undefined) return undefined;
    return { digest, mediaType: record.mediaType, bytes: await readManifestBytes(stream, digest) };
  }

  return {
    statBlob: (_repo, digest) => origin.statBlob(digest),

    readBlob: (_repo, digest, range) => origin.getBlob(digest, range === undefined ? {} : { range }),

    async getManifest(repo, reference) {
      if ('digest' in reference) return manifestByDigest(repo, reference.digest);
      const digest = await buildIndex.getTag(repo, reference.tag);
      return digest === undefined ? undefined : manifestByDigest(repo, digest);
    },

    listTags: (repo, page) => buildIndex.listTags(repo, page),

    listRepositories: (page) => buildIndex.listRepositories(page),

    async listReferrers(repo, digest) {
      return (await buildIndex.listReferrers(repo, digest)).map(toReferrerDescriptor);
    },

    async putBlob(_repo, blob: { digest: Digest; size: number; open: () => Readable }) {
      // Content-addressed: a blob the origins already hold needs no second upload.
      const existing = await origin.statBlob(blob.digest);
      if (existing?.size === blob.size) return;
      await origin.putBlob(blob.digest, blob.open(), { size: blob.size });
    },

    async mountBlob(_fromRepo, _toRepo, digest) {
      return (await origin.statBlob(digest)) !== undefined;
    },

    async putManifest(repo, manifest: StoredManifest, parsed: ParsedManifest, tag?: string) {
      if ((await origin.statBlob(manifest.digest)) === undefined) {
        await origin.putBlob(manifest.digest, Readable.from([manifest.bytes]), {
          size: manifest.bytes.length,
        });
      }
      await buildIndex.putManifest(repo, toManifestRecord(manifest, parsed));
      if (tag !== undefined) await buildIndex.putTag(repo, tag, manifest.digest);
    },

    deleteManifest(repo, reference) {
      return 'digest' in reference
        ? buildIndex.deleteManifest(repo, reference.digest)
        : buildIndex.deleteTag(repo, reference.tag);
    },
  };
}
