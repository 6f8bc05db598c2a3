/**
 * @kraken/foundation: the bottom layer. One error base class and the catalogue of
 * every error code, time as an injected effect, and bounded reads of small bodies.
 * It imports no other lib; every other lib may import it.
 */
export { KrakenError, isKrakenError } from './kraken-error.js';
export type { KrakenErrorOptions } from './kraken-error.js';
export { errorCatalogue, ERROR_CODES } from './error-catalogue.js';
export type { ErrorCode } from './error-catalogue.js';
export { systemClock, sleep } from './clock.js';
export type { Clock, Timers, TimerHandle } from './clock.js';
export { readBounded, readPrefix } from './bounded-read.js';
export { backoffDelay, createDueTimer } from './retry-schedule.js';
export type { BackoffPolicy, DueTimer } from './retry-schedule.js';
export type { ByteSource, BoundedReadResult } from './bounded-read.js';
