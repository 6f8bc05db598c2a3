/**
 * The build-index's state (tags, manifest membership records, referrers and the
 * repository catalog) persisted as small JSON objects in a StorageBackend, laid out as
 * store/keys.ts describes. Callers pass validated names and parsed digests.
 *
 * This is the plain layer: it reads and writes what it is given. Tag values carry a
 * version (version/tag-version.ts) chosen by the versioned tag store
 * (store/versioned-tag-store.ts), which is the one writer of tags and tombstones.
 * Repositories stay in the catalog once created, as in the distribution registry: an
 * emptied repository lists no tags.
 */
import { parseDigest, type Digest } from '@kraken/oci-content';
import type { StorageBackend } from '@kraken/storage-backends';
import { z } from 'zod';
import { MAX_MANIFEST_RECORD_BYTES, manifestRecordSchema, type ManifestRecord } from '../contracts.js';
import { readStoredJson, writeStoredJson } from './stored-json.js';
import {
  CATALOG_PREFIX,
  catalogKey,
  decodeCatalogName,
  manifestKey,
  referrerKey,
  referrersPrefix,
  tagKey,
  tagsPrefix,
} from './keys.js';

/** What a tag key holds. */
export interface StoredTag {
  readonly digest: string;
  /** ISO-8601 time of the write, from the clock of the node that accepted it. */
  readonly updatedAt: string;
  /** Version of the write; absent on values stored before versions (derived from `updatedAt`). */
  readonly version?: string | undefined;
}

export interface BuildIndexPage {
  /** Maximum entries to return; undefined means all. */
  readonly n?: number;
  /** Return only entries lexically after this one. */
  readonly last?: string;
}

export interface BuildIndexStore {
  getTag(repo: string, tag: string): Promise<StoredTag | undefined>;
  /** Stores the value as given (catalog entry first). */
  writeTag(repo: string, tag: string, value: StoredTag): Promise<void>;
  deleteTag(repo: string, tag: string): Promise<boolean>;
  /** Tags in lexical order; undefined when the repository is unknown. */
  listTags(repo: string, page?: BuildIndexPage): Promise<string[] | undefined>;
  listRepositories(page?: BuildIndexPage): Promise<string[]>;
  getManifest(repo: string, digest: Digest): Promise<ManifestRecord | undefined>;
  /** Stores the record (its `digest` and `subject` must be valid digests). */
  putManifest(repo: string, record: ManifestRecord): Promise<void>;
  /**
   * Removes the record and every tag pointing at it (through `dropTag`, which returns
   * whether it dropped the tag; default: delete the key); `existed` is false when
   * neither was there.
   */
  deleteManifest(
    repo: string,
    digest: Digest,
    dropTag?: (tag: string) => Promise<boolean>,
  ): Promise<{ existed: boolean; droppedTags: string[] }>;
  listReferrers(repo: string, subject: Digest): Promise<ManifestRecord[]>;
}

export interface BuildIndexStoreOptions {
  readonly backend: StorageBackend;
}

const storedTagSchema = z.object({
  digest: z.string(),
  updatedAt: z.string(),
  version: z.string().optional(),
});
const MAX_OBJECT_BYTES = MAX_MANIFEST_RECORD_BYTES;
const LIST_PAGE = 1000;
/** Tag values read at once when a manifest delete looks for the tags pointing at it. */
const SCAN_CONCURRENCY = 8;

export function createBuildIndexStore(options: BuildIndexStoreOptions): BuildIndexStore {
  const { backend } = options;

  const readJson = <T>(key: string, schema: z.ZodType<T>): Promise<T | undefined> =>
    readStoredJson(backend, key, { schema, maxBytes: MAX_OBJECT_BYTES });
  const writeJson = (key: string, value: unknown): Promise<void> => writeStoredJson(backend, key, value);

  /** Names after `prefix` of every key under it, lexically after `page.last`, up to `page.n`. */
  const listNames = async (
    prefix: string,
    page: BuildIndexPage,
    decode = (s: string) => s,
  ): Promise<string[]> => {
    const names: string[] = [];
    if (page.n === 0) return names;
    let continuationToken: string | undefined;
    // The backend cannot start a listing at a key, so pages before `last` are skipped here.
    do {
      const result = await backend.list({
        prefix,
        limit: LIST_PAGE,
        ...(continuationToken ? { continuationToken } : {}),
      });
      for (const key of result.keys) {
        const name = decode(key.slice(prefix.length));
        if (page.last !== undefined && name <= page.last) continue;
        names.push(name);
        if (page.n !== undefined && names.length >= page.n) return names;
      }
      continuationToken = result.continuationToken;
    } while (continuationToken !== undefined);
    return names;
  };

  const ensureRepository = async (repo: string): Promise<void> => {
    const key = catalogKey(repo);
    if ((await backend.stat(key)) === undefined) await writeJson(key, { name: repo });
  };

  const putManifestRecord = async (repo: string, record: ManifestRecord): Promise<void> => {
    const digest = parseDigest(record.digest);
    await ensureRepository(repo);
    await writeJson(manifestKey(repo, digest), record);
    // The referrer entry goes second: a referrer listed is always a member.
    if (record.subject !== undefined)
      await writeJson(referrerKey(repo, parseDigest(record.subject), digest), record);
  };

  return {
    async getTag(repo, tag) {
      return readJson(tagKey(repo, tag), storedTagSchema);
    },

    async writeTag(repo, tag, value) {
      // The catalog entry first: a repository whose tag write failed is listed but
      // empty, never holding tags that listRepositories cannot reach.
      await ensureRepository(repo);
      await writeJson(tagKey(repo, tag), value);
    },

    async deleteTag(repo, tag) {
      return backend.delete(tagKey(repo, tag));
    },

    async listTags(repo, page = {}) {
      if ((await backend.stat(catalogKey(repo))) === undefined) return undefined;
      return listNames(tagsPrefix(repo), page);
    },

    async listRepositories(page = {}) {
      return listNames(CATALOG_PREFIX, page, decodeCatalogName);
    },

    async getManifest(repo, digest) {
      return readJson(manifestKey(repo, digest), manifestRecordSchema);
    },

    putManifest: putManifestRecord,

    async deleteManifest(repo, digest, dropTag = (tag) => backend.delete(tagKey(repo, tag))) {
      const record = await readJson(manifestKey(repo, digest), manifestRecordSchema);
      const tags = await listNames(tagsPrefix(repo), {});
      const droppedTags: string[] = [];
      // Tags are few per repository and manifest deletes are rare, so a scan beats
      // keeping a reverse index consistent on every tag write.
      for (let i = 0; i < tags.length; i += SCAN_CONCURRENCY) {
        await Promise.all(
          tags.slice(i, i + SCAN_CONCURRENCY).map(async (tag) => {
            const value = await readJson(tagKey(repo, tag), storedTagSchema);
            if (value?.digest === digest.value && (await dropTag(tag))) droppedTags.push(tag);
          }),
        );
      }
      if (record?.subject !== undefined)
        await backend.delete(referrerKey(repo, parseDigest(record.subject), digest));
      const deleted = await backend.delete(manifestKey(repo, digest));
      return {
        existed: deleted || record !== undefined || droppedTags.length > 0,
        droppedTags: droppedTags.sort(),
      };
    },

    async listReferrers(repo, subject) {
      const prefix = referrersPrefix(repo, subject);
      const records: ManifestRecord[] = [];
      for (const name of await listNames(prefix, {})) {
        // A referrer deleted since the listing is simply not reported.
        const record = await readJson(prefix + name, manifestRecordSchema);
        if (record !== undefined) records.push(record);
      }
      return records;
    },
  };
}
