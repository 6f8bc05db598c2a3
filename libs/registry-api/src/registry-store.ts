/**
 * The storage seam of the registry API. The fastify plugin speaks the OCI
 * Distribution protocol; a `RegistryStore` answers with content. The proxy implements
 * the read-write variant (origins + build-index), the agent the read-only one.
 *
 * Every `repo`, `tag` and `Digest` passed in has already been validated by the plugin.
 * Content handed to `putBlob` has already been verified against its digest and size.
 * Manifests handed to `putManifest` are byte-exact, parsed, and every blob (image) or
 * child manifest (index) they reference was found through this store first.
 * Stores return `undefined` for "not found" and throw KrakenError subclasses for failures;
 * the plugin's error mapper turns them into OCI errors. To report a specific condition,
 * throw this lib's ManifestBlobUnknownError, UnsupportedError, DeniedError or
 * TooManyRequestsError; a KrakenError with a 5xx (or no) status becomes a bare 500/503.
 */
import type { Readable } from 'node:stream';
import type { Descriptor, Digest, ParsedManifest } from '@kraken/oci-content';

export interface BlobStat {
  readonly size: number;
}

/** Inclusive byte range, as in HTTP `Range: bytes=start-end`. */
export interface ByteRange {
  readonly start: number;
  readonly end: number;
}

export interface StoredManifest {
  readonly digest: Digest;
  readonly mediaType: string;
  readonly bytes: Buffer;
  /**
   * Resolved from a remembered answer because the source of truth could not be asked
   * (stale-if-error); the response then carries `Warning: 110 - "Response is Stale"`.
   */
  readonly stale?: boolean;
}

export interface Page {
  /** Maximum entries to return (0 means none, used to test existence); undefined means all. */
  readonly n?: number;
  /** Return entries lexically after this one. */
  readonly last?: string;
}

export interface ReadableRegistryStore {
  statBlob(repo: string, digest: Digest): Promise<BlobStat | undefined>;
  /** Streams the blob, or the given range of it (always within the blob); undefined when absent. */
  readBlob(repo: string, digest: Digest, range?: ByteRange): Promise<Readable | undefined>;
  /** Resolves a manifest by tag or digest. */
  getManifest(
    repo: string,
    reference: { tag: string } | { digest: Digest },
  ): Promise<StoredManifest | undefined>;
  /** Tags of a repository in lexical order; undefined when the repository is unknown. */
  listTags(repo: string, page: Page): Promise<string[] | undefined>;
  /**
   * Manifests in `repo` whose `subject` is `digest` (referrers API), as descriptors with
   * mediaType, digest, size, annotations, and artifactType: the manifest's own, else an
   * image manifest's config media type, else none. Without this method the referrers
   * endpoint answers 404 and pushes get no `OCI-Subject` header.
   */
  listReferrers?(repo: string, digest: Digest): Promise<Descriptor[]>;
  /** Repository names in lexical order (catalog API). */
  listRepositories?(page: Page): Promise<string[]>;
}

export interface WritableRegistryStore extends ReadableRegistryStore {
  /**
   * Stores a verified blob. `open` may be called more than once (e.g. to retry) until
   * putBlob settles; `file`, when set, is a local file with the same bytes, valid as long.
   */
  putBlob(
    repo: string,
    blob: { digest: Digest; size: number; open: () => Readable; file?: string },
  ): Promise<void>;
  /**
   * Makes a blob that exists elsewhere available in `repo`; false when it cannot. An
   * undefined `fromRepo` (a mount without `from=`) lets the store look wherever it likes.
   */
  mountBlob(fromRepo: string | undefined, toRepo: string, digest: Digest): Promise<boolean>;
  /** Stores a manifest and, when `tag` is set, points the tag at it (called once per tag of a multi-tag push). */
  putManifest(repo: string, manifest: StoredManifest, parsed: ParsedManifest, tag?: string): Promise<void>;
  /** Deletes by digest (the manifest leaves the repository) or by tag (only the tag goes). Returns false when absent. */
  deleteManifest?(repo: string, reference: { tag: string } | { digest: Digest }): Promise<boolean>;
  deleteBlob?(repo: string, digest: Digest): Promise<boolean>;
}

export type RegistryStore = ReadableRegistryStore | WritableRegistryStore;
