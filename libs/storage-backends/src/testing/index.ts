/**
 * Test fixtures of @kraken/storage-backends: the backend conformance suite, for
 * anyone implementing a StorageBackend, and generated streams of known content.
 * Import from `@kraken/storage-backends/testing`. The server fixtures (MinIO,
 * fake-gcs-server, docker-registry) stay private to this lib's tests.
 */
export { describeStorageBackendConformance } from './backend-conformance.js';
export type { BackendHarness, ConformanceOptions } from './conformance-harness.js';
export {
  generatedStream,
  generatedSha256,
  sha256OfStream,
  failingStream,
  stallingStream,
  readAll,
} from './generated-stream.js';
