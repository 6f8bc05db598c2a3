/**
 * What a tag brings with it: the closure of its manifest on this cluster's origins
 * and build-index, resolved before anything is copied. From the root, image indexes
 * lead to their child manifests, manifests to their config and layers, and every
 * manifest to its referrers in the repository (signatures, SBOMs: the build-index's
 * referrers index), recursively and bounded.
 *
 * Manifests are read (verified, capped at MAX_MANIFEST_BYTES) one at a time and
 * dropped once parsed; what the walk keeps is digests and records. Manifests come
 * out children first and subjects before their referrers, the order in which the
 * destination can accept their records.
 */
import {
  InvalidManifestError,
  parseDigest,
  parseManifest,
  requiredBlobs,
  type Digest,
} from '@kraken/oci-content';
import type { OriginClient } from '@kraken/origin';
import { fetchManifest } from '../api/manifest-closure.js';
import type { ManifestRecord } from '../contracts.js';
import { ReplicationSourceMissingError } from '../errors.js';
import type { BuildIndexStore } from '../store/tag-store.js';

export interface ClosureManifest {
  readonly digest: Digest;
  /** The repository's record of it, when the build-index has one. */
  readonly record: ManifestRecord | undefined;
}

export interface Closure {
  /** Configs and layers (non-distributable layers left out), each once. */
  readonly blobs: readonly Digest[];
  /** Every manifest, the root last but for its referrers: children before parents. */
  readonly manifests: readonly ClosureManifest[];
}

export interface ClosureWalkOptions {
  readonly origin: Pick<OriginClient, 'getBlob'>;
  readonly store: Pick<BuildIndexStore, 'getManifest' | 'listReferrers'>;
  readonly repository: string;
  readonly root: Digest;
  /** Deepest nesting of indexes and referrers followed. */
  readonly maxDepth: number;
  /** Most manifests one closure may hold, against amplification. */
  readonly maxManifests: number;
  readonly signal?: AbortSignal;
}

export async function walkClosure(options: ClosureWalkOptions): Promise<Closure> {
  const { origin, store, repository, signal } = options;
  const blobs = new Map<string, Digest>();
  const manifests: ClosureManifest[] = [];
  const seen = new Set<string>();

  const visit = async (digest: Digest, depth: number, mediaType: string | undefined): Promise<void> => {
    if (seen.has(digest.value)) return;
    seen.add(digest.value);
    if (seen.size > options.maxManifests)
      throw new InvalidManifestError(
        `${options.root.value} brings more than ${options.maxManifests} manifests`,
      );
    if (depth > options.maxDepth)
      throw new InvalidManifestError(
        `${options.root.value} nests manifests deeper than ${options.maxDepth} levels`,
      );
    const bytes = await fetchManifest(origin, digest, signal);
    if (bytes === undefined)
      throw new ReplicationSourceMissingError(`manifest ${digest.value} is missing on the local origins`, {
        digest: digest.value,
      });
    const parsed = parseManifest(bytes, mediaType);
    for (const descriptor of requiredBlobs(parsed)) {
      const blob = parseDigest(descriptor.digest);
      blobs.set(blob.value, blob);
    }
    for (const child of parsed.manifests) await visit(parseDigest(child.digest), depth + 1, child.mediaType);
    signal?.throwIfAborted();
    manifests.push({ digest, record: await store.getManifest(repository, digest) });
    for (const referrer of await store.listReferrers(repository, digest))
      await visit(parseDigest(referrer.digest), depth + 1, referrer.mediaType);
  };

  await visit(options.root, 0, undefined);
  // A blob that is also a manifest (an artifact's config, say) is copied once, as a manifest.
  for (const manifest of manifests) blobs.delete(manifest.digest.value);
  return { blobs: [...blobs.values()], manifests };
}
