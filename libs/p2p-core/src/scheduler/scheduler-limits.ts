/**
 * The scheduler's tunables and their defaults: how many peers, requests and queued
 * uploads a blob may have, and its timeouts. scheduler-config.ts is the same set as a
 * config schema for the agent's and the origin's YAML.
 */
export interface SchedulerLimits {
  /** Connections dialed per downloading blob. */
  readonly maxPeersPerBlob: number;
  /** Requests outstanding per peer and blob. */
  readonly pipelineDepth: number;
  /** Requests outstanding per blob over all its peers. */
  readonly maxRequestsPerBlob: number;
  /**
   * Bytes of pieces requested and not yet received per blob: fewer requests than
   * maxRequestsPerBlob when pieces are large (request-budget.ts), two at least.
   */
  readonly maxRequestBytesPerBlob: number;
  readonly requestTimeoutMs: number;
  /** Pieces queued for upload per peer and blob before requests get 'overloaded'. */
  readonly uploadQueueLength: number;
  /** A peer of a download that neither sent nor asked for a piece this long is dropped. */
  readonly idleLeecherMs: number;
  /** A peer of a seeded blob that asked for no piece this long is dropped. */
  readonly idleSeederMs: number;
  /** A connection carrying no blob for this long is closed. */
  readonly idleConnectionMs: number;
  /** How long a finished download keeps seeding (when it can read its pieces). */
  readonly seedAfterCompleteMs: number;
  /**
   * Pieces after the one a client streaming the blob waits for that are asked for before
   * the rest (rarest first among them); 0 leaves the rest to rarity alone.
   */
  readonly readAheadPieces: number;
  /** Announce interval until the tracker names one. */
  readonly announceIntervalMs: number;
  /** How often timed-out requests are expired and idle connections swept. */
  readonly tickMs: number;
}

export const DEFAULT_SCHEDULER_LIMITS: SchedulerLimits = {
  maxPeersPerBlob: 16,
  pipelineDepth: 4,
  maxRequestsPerBlob: 8,
  maxRequestBytesPerBlob: 8 * 1024 * 1024,
  requestTimeoutMs: 15_000,
  uploadQueueLength: 16,
  idleLeecherMs: 60_000,
  idleSeederMs: 60_000,
  idleConnectionMs: 60_000,
  seedAfterCompleteMs: 10 * 60_000,
  readAheadPieces: 32,
  announceIntervalMs: 3_000,
  tickMs: 1_000,
};
