/** Test fixtures of @kraken/service-kit; imported only by tests (`@kraken/service-kit/testing`). */
export { createTestPki } from './test-certificates.js';
export type { TestCertificate, TestPki } from './test-certificates.js';
