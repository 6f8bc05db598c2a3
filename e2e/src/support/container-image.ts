/**
 * Images a container runtime can unpack: every layer a real gzip-compressed tar (one
 * directory, one file of random bytes), and a config whose `rootfs.diff_ids` are the
 * digests of the uncompressed tars, for this machine's platform. containerd pulls,
 * checks and unpacks them like any image from a registry; the fake layers of
 * registry-images.ts would fail its unpack.
 */
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { digestOf, MediaType } from '@kraken/oci-content';
import { pushBlob, pushManifest, type Authorize } from '@kraken/storage-backends/testing';
import { describeImage, type ImageContent, type PushedImage } from './registry-images.js';

export const GZIP_LAYER = 'application/vnd.oci.image.layer.v1.tar+gzip';

/**
 * An image of `layerSizes.length` layers, each adding `<label>/layer-<i>` of that many
 * random bytes. Blobs come config first, then the layers in order.
 */
export function buildContainerImage(
  label: string,
  layerSizes: readonly number[] = [16 * 1024, 32 * 1024],
): ImageContent {
  const tars = layerSizes.map((size, i) =>
    tarArchive([
      { name: `${label}/`, content: undefined },
      { name: `${label}/layer-${i}`, content: randomBytes(size) },
    ]),
  );
  const layers = tars.map((tar) => gzipSync(tar));
  const config = Buffer.from(
    JSON.stringify({
      ...hostPlatform(),
      config: { Labels: { label } },
      rootfs: { type: 'layers', diff_ids: tars.map((tar) => digestOf(tar).value) },
    }),
  );
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: { mediaType: MediaType.ociConfig, digest: digestOf(config).value, size: config.byteLength },
      layers: layers.map((layer) => ({
        mediaType: GZIP_LAYER,
        digest: digestOf(layer).value,
        size: layer.byteLength,
      })),
    }),
  );
  return { blobs: [config, ...layers], manifest };
}

/** Pushes blobs, then the manifest under `tag`, with the credentials `authorize` gives (none by default). */
export async function pushContainerImage(options: {
  registry: string;
  repo: string;
  tag: string;
  image: ImageContent;
  authorize?: Authorize;
}): Promise<PushedImage> {
  const { registry, repo, tag, image } = options;
  const authorize = options.authorize ?? (async () => undefined);
  for (const content of image.blobs) await pushBlob({ registry, repository: repo, content, authorize });
  await pushManifest({
    registry,
    repository: repo,
    reference: tag,
    manifest: image.manifest,
    mediaType: MediaType.ociManifest,
    authorize,
  });
  return describeImage(repo, tag, image);
}

/** This machine's platform as OCI spells it (Go's GOOS/GOARCH), which a runtime unpacks for. */
export function hostPlatform(): { os: 'linux'; architecture: string } {
  const arch: Record<string, string> = {
    x64: 'amd64',
    arm64: 'arm64',
    arm: 'arm',
    ppc64: 'ppc64le',
    s390x: 's390x',
  };
  return { os: 'linux', architecture: arch[process.arch] ?? process.arch };
}

interface TarEntry {
  /** A name ending in `/` is a directory. */
  readonly name: string;
  readonly content: Buffer | undefined;
}

const BLOCK = 512;

/** A POSIX ustar archive: a header block per entry, the content padded to blocks, two zero blocks. */
function tarArchive(entries: readonly TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const entry of entries) {
    const size = entry.content?.byteLength ?? 0;
    parts.push(tarHeader(entry.name, size, entry.name.endsWith('/')));
    if (entry.content !== undefined) {
      parts.push(entry.content, Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK));
    }
  }
  parts.push(Buffer.alloc(2 * BLOCK));
  return Buffer.concat(parts);
}

function tarHeader(name: string, size: number, directory: boolean): Buffer {
  if (Buffer.byteLength(name) > 100) throw new Error(`tar entry name too long: ${name}`);
  const header = Buffer.alloc(BLOCK);
  const field = (offset: number, length: number, value: string) =>
    header.write(value, offset, length, 'ascii');
  const octal = (offset: number, length: number, value: number) =>
    field(offset, length, `${value.toString(8).padStart(length - 1, '0')}\0`);
  field(0, 100, name);
  octal(100, 8, directory ? 0o755 : 0o644);
  octal(108, 8, 0);
  octal(116, 8, 0);
  octal(124, 12, size);
  octal(136, 12, 0);
  field(156, 1, directory ? '5' : '0');
  field(257, 6, 'ustar\0');
  field(263, 2, '00');
  // The checksum is computed with its own field read as eight spaces.
  field(148, 8, ' '.repeat(8));
  let sum = 0;
  for (const byte of header) sum += byte;
  field(148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
  return header;
}
