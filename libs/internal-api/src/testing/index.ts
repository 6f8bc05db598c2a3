/** Test fixtures of @kraken/internal-api, for tests of components built on it. */
export { startInProcessServices } from './in-process-services.js';
export type { InProcessServices } from './in-process-services.js';
