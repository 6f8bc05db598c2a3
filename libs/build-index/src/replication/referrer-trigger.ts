/**
 * Referrers pushed after their subject's tag (a signature, an SBOM, an attestation:
 * a manifest with a `subject`, pushed by digest) replicate by re-queueing the tags
 * that bring them. A tag's task copies its whole closure, referrers included, so a
 * new referrer only has to queue again, for every matching rule, the puts of the
 * repository's tags whose value is its subject, or the subject's own subject (a
 * signature of an SBOM of an image), up a few levels. Blobs and records the
 * destination already has are skipped there, and the tag change it carries is a no-op
 * where it is not newer.
 *
 * What stops it from looping: it runs only for records new to this node, and never
 * towards the cluster the referrer was replicated from.
 * Tags whose value is an image index listing the subject as a child are not found:
 * that would read every tagged index; the next push of such a tag carries it.
 */
import { parseDigest } from '@kraken/oci-content';
import type { ManifestWrite } from '../api/routes.js';
import type { VersionedTagStore } from '../store/versioned-tag-store.js';
import { parseVersion } from '../version/tag-version.js';
import type { ChangeEvent } from './replicator.js';

/** Levels of subjects followed up from a referrer (referrers of referrers). */
const MAX_SUBJECT_DEPTH = 4;

export interface ReferrerTriggerOptions {
  readonly clusterId: string;
  readonly tags: Pick<VersionedTagStore, 'list' | 'plain'>;
  readonly enqueue: (change: ChangeEvent) => void;
}

/** Queues the tags a newly stored referrer belongs to; resolves to how many tags matched. */
export function createReferrerTrigger(
  options: ReferrerTriggerOptions,
): (write: ManifestWrite) => Promise<number> {
  const { clusterId, tags } = options;

  /** The referrer's subject, its subject's subject, and so on: digests a tag may point at. */
  const subjectsOf = async (write: ManifestWrite): Promise<Set<string>> => {
    const subjects = new Set<string>();
    let subject = write.record.subject;
    while (subject !== undefined && !subjects.has(subject) && subjects.size < MAX_SUBJECT_DEPTH) {
      subjects.add(subject);
      subject = (await tags.plain.getManifest(write.repo, parseDigest(subject)))?.subject;
    }
    return subjects;
  };

  return async (write) => {
    if (write.record.subject === undefined) return 0;
    const subjects = await subjectsOf(write);
    const listing = await tags.list(write.repo);
    let matched = 0;
    for (const value of listing?.tags ?? []) {
      if (!subjects.has(value.digest)) continue;
      matched++;
      options.enqueue({
        repository: write.repo,
        tag: value.tag,
        kind: 'put',
        digest: value.digest,
        version: value.version,
        origin: parseVersion(value.version).clusterId || clusterId,
        from: write.from,
        referrer: true,
      });
    }
    return matched;
  };
}
