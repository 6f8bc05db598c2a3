/**
 * @kraken/oci-content: the OCI content model shared by every component.
 * Digests (sha256, sha512) parsed once at the edge, streaming verification,
 * media types and manifest references.
 */
export {
  InvalidDigestError,
  DigestMismatchError,
  SizeMismatchError,
  ContentTooLargeError,
} from './errors.js';
export type { Digest, DigestAlgorithm } from './digest.js';
export {
  parseDigest,
  tryParseDigest,
  isDigest,
  digestFromHex,
  SUPPORTED_DIGEST_ALGORITHMS,
} from './digest.js';
export type { Digester, VerifyOptions } from './digester.js';
export { createDigester, digestOf, DigestVerifyStream } from './digester.js';
export {
  MediaType,
  INDEX_MEDIA_TYPES,
  IMAGE_MANIFEST_MEDIA_TYPES,
  MANIFEST_MEDIA_TYPES,
  MAX_MANIFEST_BYTES,
  NON_DISTRIBUTABLE_MEDIA_TYPES,
} from './media-types.js';
export type { Descriptor, ParsedManifest } from './manifest.js';
export {
  parseManifest,
  referencedDigests,
  requiredBlobs,
  descriptorSchema,
  InvalidManifestError,
} from './manifest.js';
export { InvalidRepositoryNameError, InvalidTagError } from './errors.js';
export {
  parseRepositoryName,
  parseTag,
  isRepositoryName,
  isTag,
  isRegistryHost,
  MAX_REPOSITORY_NAME_LENGTH,
} from './reference-names.js';
export {
  DIGEST_PATTERN,
  digestParamSchema,
  digestStringSchema,
  repositoryNameParamSchema,
  tagParamSchema,
} from './name-schemas.js';
