/**
 * The version and commit of a binary. tools/build-app.mjs bakes them in through esbuild's
 * `define`; code run from source (tests, tsc builds of the lib) sees "unknown".
 */
declare const KRAKEN_VERSION: string | undefined;
declare const KRAKEN_COMMIT: string | undefined;

export interface BuildInfo {
  /** The root package.json's version. */
  version: string;
  /** The git commit the binary was built from, or "unknown" outside a git checkout. */
  commit: string;
}

export const buildInfo: BuildInfo = {
  version: typeof KRAKEN_VERSION === 'string' ? KRAKEN_VERSION : 'unknown',
  commit: typeof KRAKEN_COMMIT === 'string' ? KRAKEN_COMMIT : 'unknown',
};
