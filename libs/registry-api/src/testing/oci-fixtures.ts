/**
 * Small OCI content for tests: blobs, image manifests and indexes with their digests
 * and descriptors, built the way clients build them.
 */
import { digestOf, MediaType, type Descriptor, type Digest, type DigestAlgorithm } from '@kraken/oci-content';

export interface TestContent {
  readonly bytes: Buffer;
  readonly digest: Digest;
}

export interface TestManifest extends TestContent {
  readonly mediaType: string;
}

export function testBlob(data: string | Buffer, algorithm: DigestAlgorithm = 'sha256'): TestContent {
  const bytes = Buffer.isBuffer(data) ? data : Buffer.from(data);
  return { bytes, digest: digestOf(bytes, algorithm) };
}

export function descriptorOf(
  content: TestContent,
  mediaType: string,
  extra: Partial<Descriptor> = {},
): Descriptor {
  return { mediaType, digest: content.digest.value, size: content.bytes.byteLength, ...extra };
}

export interface ImageManifestSpec {
  readonly config: TestContent;
  readonly layers?: readonly TestContent[];
  readonly configMediaType?: string;
  readonly layerMediaType?: string;
  readonly mediaType?: string;
  readonly artifactType?: string;
  readonly subject?: Descriptor;
  readonly annotations?: Record<string, string>;
  readonly algorithm?: DigestAlgorithm;
}

export function testImageManifest(spec: ImageManifestSpec): TestManifest {
  const mediaType = spec.mediaType ?? MediaType.ociManifest;
  const document = {
    schemaVersion: 2,
    mediaType,
    ...(spec.artifactType && { artifactType: spec.artifactType }),
    config: descriptorOf(spec.config, spec.configMediaType ?? MediaType.ociConfig),
    layers: (spec.layers ?? []).map((l) =>
      descriptorOf(l, spec.layerMediaType ?? 'application/vnd.oci.image.layer.v1.tar+gzip'),
    ),
    ...(spec.subject && { subject: spec.subject }),
    ...(spec.annotations && { annotations: spec.annotations }),
  };
  const bytes = Buffer.from(JSON.stringify(document, null, 2));
  return { bytes, digest: digestOf(bytes, spec.algorithm ?? 'sha256'), mediaType };
}

export interface IndexSpec {
  readonly manifests: readonly Descriptor[];
  readonly mediaType?: string;
  readonly artifactType?: string;
  readonly subject?: Descriptor;
  readonly annotations?: Record<string, string>;
}

export function testIndex(spec: IndexSpec): TestManifest {
  const mediaType = spec.mediaType ?? MediaType.ociIndex;
  const document = {
    schemaVersion: 2,
    mediaType,
    ...(spec.artifactType && { artifactType: spec.artifactType }),
    manifests: spec.manifests,
    ...(spec.subject && { subject: spec.subject }),
    ...(spec.annotations && { annotations: spec.annotations }),
  };
  const bytes = Buffer.from(JSON.stringify(document));
  return { bytes, digest: digestOf(bytes), mediaType };
}
