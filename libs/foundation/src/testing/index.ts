/** Test doubles of the foundation's effects; imported only by tests (`@kraken/foundation/testing`). */
export { createManualClock, settle } from './manual-clock.js';
export type { ManualClock } from './manual-clock.js';
