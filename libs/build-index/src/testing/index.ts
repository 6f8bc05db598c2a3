/** Test fixtures of @kraken/build-index, for tests of components built on it. */
export { startInProcessServices } from './in-process-services.js';
export type { InProcessServices } from './in-process-services.js';
