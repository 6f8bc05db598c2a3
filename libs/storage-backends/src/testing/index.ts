/**
 * Test fixtures of @kraken/storage-backends: the backend conformance suite, for
 * anyone implementing a StorageBackend, generated streams of known content, and a
 * real registry to stand in for upstreams (Debian's docker-registry, its token
 * service, and seeding through its API), which the e2e tests share. Import from
 * `@kraken/storage-backends/testing`. The MinIO and fake-gcs-server fixtures stay
 * private to this lib's tests.
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
export { startDockerRegistry, DOCKER_REGISTRY_BINARY } from './docker-registry-process.js';
export type {
  DockerRegistry,
  DockerRegistryOptions,
  RegistryAuthConfig,
  RegistryRequest,
} from './docker-registry-process.js';
export { startTokenServer } from './registry-token-server.js';
export type { TokenServer, TokenServerOptions } from './registry-token-server.js';
export { createTokenCertificates } from './token-certificates.js';
export type { TokenCertificates } from './token-certificates.js';
export { pushBlob, pushManifest, pushImage } from './registry-seed.js';
export type { Authorize } from './registry-seed.js';
