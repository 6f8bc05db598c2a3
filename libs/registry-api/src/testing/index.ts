/**
 * @kraken/registry-api/testing: fixtures for tests of the registry API and of the
 * components built on it. Not for production use.
 */
export { createMemoryRegistryStore, readOnlyRegistryStore, applyPage } from './memory-registry-store.js';
export type { MemoryRegistryStore } from './memory-registry-store.js';
export { createTestRegistry } from './test-registry.js';
export type { TestRegistry, TestRegistryOptions } from './test-registry.js';
export { testBlob, descriptorOf, testImageManifest, testIndex } from './oci-fixtures.js';
export type { TestContent, TestManifest, ImageManifestSpec, IndexSpec } from './oci-fixtures.js';
export { createTestTokenIssuer, testHtpasswdLine } from './test-credentials.js';
export type { TestTokenIssuer, TestTokenClaims } from './test-credentials.js';
