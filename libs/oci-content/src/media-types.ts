/** Media types of the OCI image spec and Docker's schema2 that the registry understands. */
export const MediaType = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociEmpty: 'application/vnd.oci.empty.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
} as const;

/** Media types whose documents list other manifests (image indexes). */
export const INDEX_MEDIA_TYPES: ReadonlySet<string> = new Set([
  MediaType.ociIndex,
  MediaType.dockerManifestList,
]);

/** Media types whose documents describe one image (config + layers). */
export const IMAGE_MANIFEST_MEDIA_TYPES: ReadonlySet<string> = new Set([
  MediaType.ociManifest,
  MediaType.dockerManifest,
]);

export const MANIFEST_MEDIA_TYPES: ReadonlySet<string> = new Set([
  ...INDEX_MEDIA_TYPES,
  ...IMAGE_MANIFEST_MEDIA_TYPES,
]);

/** Hard limit for manifest documents, as the distribution spec recommends. */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

/**
 * Layers that by definition are fetched from elsewhere (their descriptor's `urls`),
 * so a registry must not require them to be present.
 */
export const NON_DISTRIBUTABLE_MEDIA_TYPES: ReadonlySet<string> = new Set([
  'application/vnd.oci.image.layer.nondistributable.v1.tar',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd',
  'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
]);
