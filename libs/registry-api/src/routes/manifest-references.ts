/**
 * What must already be in a repository before a manifest may point at it: the blobs
 * of an image manifest (except non-distributable layers, which live elsewhere by
 * definition) and the child manifests of an index. A `subject` is exempt: the spec
 * lets referrers arrive before the manifest they refer to.
 */
import { parseDigest, requiredBlobs, type Descriptor, type ParsedManifest } from '@kraken/oci-content';
import { ManifestBlobUnknownError } from '../errors.js';
import type { ReadableRegistryStore } from '../registry-store.js';

/** Lookups in flight at once; manifests may list hundreds of layers. */
const CONCURRENCY = 8;

/** Throws ManifestBlobUnknownError listing every referenced digest the repository lacks. */
export async function checkManifestReferences(
  store: ReadableRegistryStore,
  repo: string,
  manifest: ParsedManifest,
): Promise<void> {
  const blobs = requiredBlobs(manifest);
  const missing = [
    ...(await findMissing(
      blobs,
      async (d) => (await store.statBlob(repo, parseDigest(d.digest))) !== undefined,
    )),
    ...(await findMissing(manifest.manifests, async (d) => {
      return (await store.getManifest(repo, { digest: parseDigest(d.digest) })) !== undefined;
    })),
  ];
  if (missing.length > 0) throw new ManifestBlobUnknownError(missing);
}

async function findMissing(
  descriptors: readonly Descriptor[],
  exists: (descriptor: Descriptor) => Promise<boolean>,
): Promise<string[]> {
  const unique = [...new Map(descriptors.map((d) => [d.digest, d])).values()];
  const missing: string[] = [];
  for (let i = 0; i < unique.length; i += CONCURRENCY) {
    const batch = unique.slice(i, i + CONCURRENCY);
    const found = await Promise.all(batch.map(exists));
    batch.forEach((d, j) => {
      if (found[j] !== true) missing.push(d.digest);
    });
  }
  return missing;
}
