/**
 * Test fixtures of @kraken/storage-backends: the backend conformance suite and
 * generated streams of known content. Import from `@kraken/storage-backends/testing`.
 */
export { describeStorageBackendConformance, UNSAFE_KEYS } from './backend-conformance.js';
export type {
  BackendHarness,
  BackendCapabilities,
  WritableCapabilities,
  ReadOnlyCapabilities,
  ConformanceOptions,
  ConformanceContext,
} from './backend-conformance.js';
export { startMinio } from './minio-server.js';
export type { MinioServer } from './minio-server.js';
export { startGcsServer } from './gcs-server.js';
export type { GcsServer } from './gcs-server.js';
export {
  generatedStream,
  generatedSha256,
  sha256OfStream,
  failingStream,
  stallingStream,
  readAll,
} from './generated-stream.js';
