/**
 * Typed clients of the internal APIs. Implementations use undici with keep-alive
 * pools, stream bodies both ways, and map /v1/ error bodies to KrakenError subclasses.
 * "Not found" is `undefined`/`false`, never an exception.
 */
import type { Readable } from 'node:stream';
import type { Digest } from '@kraken/oci-content';
import type { ManifestRecord } from './contracts.js';

export interface OriginClient {
  statBlob(digest: Digest, signal?: AbortSignal): Promise<{ size: number } | undefined>;
  /** Streams the blob or an inclusive byte range of it; undefined when absent. */
  getBlob(digest: Digest, options?: { range?: { start: number; end: number }; signal?: AbortSignal }): Promise<Readable | undefined>;
  /** Uploads a blob with one streamed PUT; the origin verifies the digest before it becomes visible. */
  putBlob(digest: Digest, body: Readable, options?: { size?: number; signal?: AbortSignal }): Promise<void>;
  deleteBlob(digest: Digest): Promise<boolean>;
  /** Health of the origin (GET /readiness), for readiness checks. */
  ping(signal?: AbortSignal): Promise<void>;
  close(): Promise<void>;
}

export interface BuildIndexClient {
  getTag(repo: string, tag: string, signal?: AbortSignal): Promise<Digest | undefined>;
  /** Refused with a TagRejectedError (409) when the manifest or a blob it references is missing on the origins. */
  putTag(repo: string, tag: string, digest: Digest): Promise<void>;
  deleteTag(repo: string, tag: string): Promise<boolean>;
  listTags(repo: string, page?: { n?: number; last?: string }): Promise<string[] | undefined>;
  listRepositories(page?: { n?: number; last?: string }): Promise<string[]>;
  getManifest(repo: string, digest: Digest, signal?: AbortSignal): Promise<ManifestRecord | undefined>;
  putManifest(repo: string, record: ManifestRecord): Promise<void>;
  deleteManifest(repo: string, digest: Digest): Promise<boolean>;
  listReferrers(repo: string, digest: Digest): Promise<ManifestRecord[]>;
  ping(signal?: AbortSignal): Promise<void>;
  close(): Promise<void>;
}
