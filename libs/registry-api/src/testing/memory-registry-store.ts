/**
 * An in-memory WritableRegistryStore: the reference implementation of the storage
 * seam, for tests of the plugin and of anything built on it. It keeps whole blobs in
 * memory, so it is only for small test content. It re-verifies what `putBlob` gets,
 * so a plugin bug that lets unverified bytes through fails loudly.
 */
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DigestVerifyStream, type Descriptor, type Digest, type ParsedManifest } from '@kraken/oci-content';
import type {
  Page,
  ReadableRegistryStore,
  StoredManifest,
  WritableRegistryStore,
} from '../registry-store.js';

interface ManifestEntry {
  readonly stored: StoredManifest;
  readonly parsed: ParsedManifest;
}

interface Repository {
  readonly blobs: Map<string, Buffer>;
  readonly manifests: Map<string, ManifestEntry>;
  readonly tags: Map<string, string>;
}

export interface MemoryRegistryStore extends Required<WritableRegistryStore> {
  /** Test helper: adds a blob without going through an upload. */
  seedBlob(repo: string, digest: Digest, bytes: Buffer): void;
  /** Test helper: every repository name with its blob digests, manifest digests and tags. */
  dump(): Record<string, { blobs: string[]; manifests: string[]; tags: Record<string, string> }>;
}

export function createMemoryRegistryStore(): MemoryRegistryStore {
  const repositories = new Map<string, Repository>();

  const repository = (name: string): Repository => {
    let repo = repositories.get(name);
    if (repo === undefined) {
      repo = { blobs: new Map(), manifests: new Map(), tags: new Map() };
      repositories.set(name, repo);
    }
    return repo;
  };

  const manifestOf = (repo: Repository | undefined, reference: { tag: string } | { digest: Digest }) => {
    if (repo === undefined) return undefined;
    const digest = 'digest' in reference ? reference.digest.value : repo.tags.get(reference.tag);
    return digest === undefined ? undefined : repo.manifests.get(digest);
  };

  return {
    async statBlob(repo, digest) {
      const blob = repositories.get(repo)?.blobs.get(digest.value);
      return blob === undefined ? undefined : { size: blob.byteLength };
    },

    async readBlob(repo, digest, range) {
      const blob = repositories.get(repo)?.blobs.get(digest.value);
      if (blob === undefined) return undefined;
      const bytes = range === undefined ? blob : blob.subarray(range.start, range.end + 1);
      return Readable.from([bytes]);
    },

    async getManifest(repo, reference) {
      return manifestOf(repositories.get(repo), reference)?.stored;
    },

    async listTags(repo, page) {
      const entry = repositories.get(repo);
      if (entry === undefined) return undefined;
      return applyPage([...entry.tags.keys()], page);
    },

    async listReferrers(repo, digest) {
      const entry = repositories.get(repo);
      if (entry === undefined) return [];
      const referrers: Descriptor[] = [];
      for (const { stored, parsed } of entry.manifests.values()) {
        if (parsed.subject?.digest !== digest.value) continue;
        referrers.push({
          mediaType: stored.mediaType,
          digest: stored.digest.value,
          size: stored.bytes.byteLength,
          ...(parsed.artifactType === undefined ? {} : { artifactType: parsed.artifactType }),
          ...(parsed.annotations === undefined ? {} : { annotations: parsed.annotations }),
        });
      }
      return referrers.sort((a, b) => compare(a.digest, b.digest));
    },

    async listRepositories(page) {
      return applyPage([...repositories.keys()], page);
    },

    async putBlob(repo, blob) {
      const verify = new DigestVerifyStream({ expected: blob.digest, expectedSize: blob.size });
      const chunks: Buffer[] = [];
      const collect = new Writable({
        write(chunk: Buffer, _encoding, callback) {
          chunks.push(chunk);
          callback();
        },
      });
      await pipeline(blob.open(), verify, collect);
      repository(repo).blobs.set(blob.digest.value, Buffer.concat(chunks));
    },

    async mountBlob(fromRepo, toRepo, digest) {
      const sources = fromRepo === undefined ? [...repositories.values()] : [repositories.get(fromRepo)];
      const bytes = sources.map((source) => source?.blobs.get(digest.value)).find((b) => b !== undefined);
      if (bytes === undefined) return false;
      repository(toRepo).blobs.set(digest.value, bytes);
      return true;
    },

    async putManifest(repo, manifest, parsed, tag) {
      const entry = repository(repo);
      // Copy: the caller's buffer is not ours to keep.
      const stored = { ...manifest, bytes: Buffer.from(manifest.bytes) };
      entry.manifests.set(manifest.digest.value, { stored, parsed });
      if (tag !== undefined) entry.tags.set(tag, manifest.digest.value);
    },

    async deleteManifest(repo, reference) {
      const entry = repositories.get(repo);
      if (entry === undefined) return false;
      if ('tag' in reference) return entry.tags.delete(reference.tag);
      if (!entry.manifests.delete(reference.digest.value)) return false;
      for (const [tag, digest] of entry.tags) {
        if (digest === reference.digest.value) entry.tags.delete(tag);
      }
      return true;
    },

    async deleteBlob(repo, digest) {
      return repositories.get(repo)?.blobs.delete(digest.value) ?? false;
    },

    seedBlob(repo, digest, bytes) {
      repository(repo).blobs.set(digest.value, Buffer.from(bytes));
    },

    dump() {
      const out: ReturnType<MemoryRegistryStore['dump']> = {};
      for (const [name, repo] of repositories) {
        out[name] = {
          blobs: [...repo.blobs.keys()].sort(compare),
          manifests: [...repo.manifests.keys()].sort(compare),
          tags: Object.fromEntries(repo.tags),
        };
      }
      return out;
    },
  };
}

/** The read-only face of a store (what an agent exposes): no put, mount or delete. */
export function readOnlyRegistryStore(store: ReadableRegistryStore): ReadableRegistryStore {
  return {
    statBlob: (repo, digest) => store.statBlob(repo, digest),
    readBlob: (repo, digest, range) => store.readBlob(repo, digest, range),
    getManifest: (repo, reference) => store.getManifest(repo, reference),
    listTags: (repo, page) => store.listTags(repo, page),
    ...(store.listReferrers && { listReferrers: store.listReferrers.bind(store) }),
    ...(store.listRepositories && { listRepositories: store.listRepositories.bind(store) }),
  };
}

/** Sorted ("ASCIIbetical", as Go's sort.Strings) and paged as the distribution spec says. */
export function applyPage(entries: readonly string[], page: Page): string[] {
  const sorted = [...entries].sort(compare);
  const start = page.last === undefined ? 0 : sorted.findIndex((e) => compare(e, page.last ?? '') > 0);
  if (start === -1) return [];
  return page.n === undefined ? sorted.slice(start) : sorted.slice(start, start + page.n);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
