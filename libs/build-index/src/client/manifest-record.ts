/**
 * Conversions between what the registry API handles (stored manifests, descriptors)
 * and the build-index's ManifestRecord.
 */
import { parseDigest, type Descriptor, type ParsedManifest } from '@kraken/oci-content';
import type { StoredManifest } from '@kraken/registry-api';
import type { ManifestRecord } from '../contracts.js';

export function toManifestRecord(manifest: StoredManifest, parsed: ParsedManifest): ManifestRecord {
  return {
    digest: manifest.digest.value,
    mediaType: manifest.mediaType,
    size: manifest.bytes.length,
    ...(parsed.artifactType === undefined ? {} : { artifactType: parsed.artifactType }),
    ...(parsed.subject === undefined ? {} : { subject: parseDigest(parsed.subject.digest).value }),
    ...(parsed.annotations === undefined ? {} : { annotations: parsed.annotations }),
  };
}

/** The descriptor the referrers API lists for a manifest. */
export function toReferrerDescriptor(record: ManifestRecord): Descriptor {
  return {
    mediaType: record.mediaType,
    digest: record.digest,
    size: record.size,
    ...(record.artifactType === undefined ? {} : { artifactType: record.artifactType }),
    ...(record.annotations === undefined ? {} : { annotations: record.annotations }),
  };
}
