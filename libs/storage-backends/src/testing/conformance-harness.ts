/**
 * What the StorageBackend conformance suite is parameterised by: the harness a backend
 * provides for each test, the capabilities it declares (writable, or read-only with
 * content seeded upstream), and the context the suite's parts share.
 */
import type { StorageBackend } from '../storage-backend.js';

export interface BackendHarness {
  readonly backend: StorageBackend;
  /** Names of in-progress/temporary artifacts the backend left behind (should be none). */
  leftovers(): Promise<string[]>;
  /**
   * Backends of the same kind that cannot work: pointed at a closed port, with bad
   * credentials, at a missing bucket. Each must fail `check()` with
   * StorageUnavailableError naming it. The suite closes them.
   */
  unavailableBackends(): StorageBackend[];
  cleanup(): Promise<void>;
}

/** A backend that stores what it is given (filesystem, s3, gcs). The default. */
export interface WritableCapabilities {
  readonly writable: true;
}

/**
 * A backend that only serves what its upstream holds (http, registry). Content is
 * seeded through the upstream, and keys are whatever the backend serves it under.
 */
export interface ReadOnlyCapabilities<H extends BackendHarness = BackendHarness> {
  readonly writable: false;
  /**
   * The key under which the backend serves `content` once seeded, e.g.
   * `blobKey(digestOf(content))`. Called for unseeded content too, to get keys that
   * are well formed but missing.
   */
  keyFor(content: Buffer): string;
  /** Makes `content` servable under `keyFor(content)` by this test's harness, via its upstream server. */
  seed(harness: H, content: Buffer): Promise<void>;
}

export type BackendCapabilities<H extends BackendHarness = BackendHarness> =
  WritableCapabilities | ReadOnlyCapabilities<H>;

export interface ConformanceOptions<H extends BackendHarness = BackendHarness> {
  /** Size of the streamed large object of writable backends (default 64 MiB). */
  readonly largeObjectBytes?: number;
  /** Default `{ writable: true }`. */
  readonly capabilities?: BackendCapabilities<H>;
}

/** What the tests of one backend share: the current harness and how to place content. */
export interface ConformanceContext {
  harness(): BackendHarness;
  backend(): StorageBackend;
  /** Stores `content` (under `label` when the backend is writable) and returns its key. */
  put(label: string, content: string | Buffer): Promise<string>;
  /** A well-formed key that holds nothing. */
  missing(label: string): string;
}
