/**
 * Test fixtures for the build-index: an in-memory stand-in for the origin's blob
 * reads, and builders of small OCI images and indexes. Not exported from the lib.
 */
import { Readable } from 'node:stream';
import { digestOf, MediaType, type Digest } from '@kraken/oci-content';
import type { OriginClient } from '@kraken/origin';

export interface FakeOrigin extends Pick<OriginClient, 'statBlob' | 'getBlob'> {
  /** Stores content and returns its digest. */
  put(content: string | Buffer): Digest;
  remove(digest: Digest): void;
  /** Origin requests currently in flight, and the most seen at once. */
  readonly inFlight: number;
  readonly maxInFlight: number;
  /** When set, every request waits for this before answering. */
  gate: Promise<void> | undefined;
}

export function createFakeOrigin(): FakeOrigin {
  const blobs = new Map<string, Buffer>();
  let inFlight = 0;
  let maxInFlight = 0;
  const origin: FakeOrigin = {
    gate: undefined,
    get inFlight() {
      return inFlight;
    },
    get maxInFlight() {
      return maxInFlight;
    },
    put(content) {
      const bytes = Buffer.from(content);
      const digest = digestOf(bytes);
      blobs.set(digest.value, bytes);
      return digest;
    },
    remove(digest) {
      blobs.delete(digest.value);
    },
    async statBlob(digest) {
      return track(async () => {
        const bytes = blobs.get(digest.value);
        return bytes === undefined ? undefined : { size: bytes.byteLength };
      });
    },
    async getBlob(digest) {
      return track(async () => {
        const bytes = blobs.get(digest.value);
        return bytes === undefined ? undefined : Readable.from([bytes]);
      });
    },
  };
  async function track<T>(fn: () => Promise<T>): Promise<T> {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    try {
      await origin.gate;
      return await fn();
    } finally {
      inFlight--;
    }
  }
  return origin;
}

export interface BuiltManifest {
  readonly digest: Digest;
  readonly bytes: Buffer;
  readonly mediaType: string;
}

function descriptor(mediaType: string, digest: Digest, size: number) {
  return { mediaType, digest: digest.value, size };
}

/** An OCI image manifest over the given config and layer contents (not stored anywhere). */
export function imageManifest(options: {
  config: string;
  layers: readonly string[];
  subject?: BuiltManifest;
  artifactType?: string;
  annotations?: Record<string, string>;
}): BuiltManifest & { readonly blobs: readonly { digest: Digest; bytes: Buffer }[] } {
  const blobs = [options.config, ...options.layers].map((c) => ({
    digest: digestOf(c),
    bytes: Buffer.from(c),
  }));
  const [config, ...layers] = blobs;
  const document = {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    ...(options.artifactType ? { artifactType: options.artifactType } : {}),
    config: descriptor(MediaType.ociConfig, config!.digest, config!.bytes.byteLength),
    layers: layers.map((l) =>
      descriptor('application/vnd.oci.image.layer.v1.tar', l.digest, l.bytes.byteLength),
    ),
    ...(options.subject
      ? {
          subject: descriptor(
            options.subject.mediaType,
            options.subject.digest,
            options.subject.bytes.byteLength,
          ),
        }
      : {}),
    ...(options.annotations ? { annotations: options.annotations } : {}),
  };
  const bytes = Buffer.from(JSON.stringify(document));
  return { digest: digestOf(bytes), bytes, mediaType: MediaType.ociManifest, blobs };
}

/** An OCI image index listing the given manifests. */
export function imageIndex(children: readonly BuiltManifest[]): BuiltManifest {
  const document = {
    schemaVersion: 2,
    mediaType: MediaType.ociIndex,
    manifests: children.map((c) => descriptor(c.mediaType, c.digest, c.bytes.byteLength)),
  };
  const bytes = Buffer.from(JSON.stringify(document));
  return { digest: digestOf(bytes), bytes, mediaType: MediaType.ociIndex };
}

/** Puts an image's manifest and blobs on the origin. */
export function storeImage(origin: FakeOrigin, image: ReturnType<typeof imageManifest>): void {
  for (const blob of image.blobs) origin.put(blob.bytes);
  origin.put(image.bytes);
}
