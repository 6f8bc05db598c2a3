/** Test fixtures of @kraken/origin, for tests of its clients and of components built on it. */
export { startInProcessOrigin } from './in-process-origin.js';
export type { InProcessOrigin } from './in-process-origin.js';
export { startTestOrigins } from './ring-fixtures.js';
export type { TestOrigins } from './ring-fixtures.js';
export { startScriptedUpstream } from './scripted-upstream.js';
export type { ScriptedUpstream, ScriptedImage } from './scripted-upstream.js';
