/** What the proxy and agents need of the build-index, as one narrow interface. */
import type { Digest } from '@kraken/oci-content';
import type { ManifestRecord } from '../contracts.js';

export interface BuildIndexClient {
  getTag(repo: string, tag: string, signal?: AbortSignal): Promise<Digest | undefined>;
  /** Refused with a TagRejectedError (409) when the manifest or a blob it references is missing on the origins. */
  putTag(repo: string, tag: string, digest: Digest): Promise<void>;
  deleteTag(repo: string, tag: string): Promise<boolean>;
  listTags(repo: string, page?: { n?: number; last?: string }): Promise<string[] | undefined>;
  listRepositories(page?: { n?: number; last?: string }): Promise<string[]>;
  getManifest(repo: string, digest: Digest, signal?: AbortSignal): Promise<ManifestRecord | undefined>;
  /** `replicatedFrom`: the cluster the record is replicated from (cross-cluster replication only). */
  putManifest(repo: string, record: ManifestRecord, options?: { replicatedFrom?: string }): Promise<void>;
  deleteManifest(repo: string, digest: Digest): Promise<boolean>;
  listReferrers(repo: string, digest: Digest): Promise<ManifestRecord[]>;
  ping(signal?: AbortSignal): Promise<void>;
  close(): Promise<void>;
}
