/**
 * What the scheduler offers its callers: downloads shared per blob, seeding, live
 * piece reads, status, and leaving a swarm. The implementation is scheduler.ts; what it
 * is given is scheduler-deps.ts.
 */
import type { Metainfo } from '../metainfo/metainfo.js';
import type { BlobAdopter } from '../storage/partial-blob.js';
import type { PieceReader } from '../storage/piece-reader.js';

export type SwarmBlobState = 'downloading' | 'completing' | 'seeding';

export interface BlobStatus {
  readonly metainfoId: string;
  readonly digest: string;
  readonly state: SwarmBlobState;
  readonly piecesDone: number;
  readonly pieceCount: number;
  readonly peersConnected: number;
  /** Piece bytes received from other agents (origins not included). */
  readonly bytesFromPeers: number;
  /** Piece bytes received from origins. */
  readonly bytesFromOrigins: number;
  readonly bytesUploaded: number;
}

export interface DownloadOptions {
  /** Receives the verified blob (a content store's adopt-by-rename). */
  readonly adopter: BlobAdopter;
  /** Aborting rejects this caller; the download stops once every caller aborted. */
  readonly signal?: AbortSignal | undefined;
  /** Reads pieces of the adopted blob, so that it seeds for `seedAfterCompleteMs`. */
  readonly readPiece?: PieceReader | undefined;
}

export interface PieceReadOptions {
  /** Aborting rejects the read (and a wait for the piece). */
  readonly signal?: AbortSignal | undefined;
  readonly into?: Buffer | undefined;
}

export interface SeedOptions {
  readonly readPiece: PieceReader;
  /**
   * Origins only: the piece super-seeding sends first (default 0), so that the origins of
   * one blob share the first pass instead of all starting at piece 0.
   */
  readonly firstPiece?: number | undefined;
  /** Aborting leaves the swarm. */
  readonly signal?: AbortSignal | undefined;
}

export interface Scheduler {
  /** Accepts peers; when the local port is 0, the bound port is what gets announced. */
  listen(options: { host?: string; port: number }): Promise<{ host: string; port: number }>;
  /**
   * Resolves once the blob is complete, whole-digest verified and adopted. Concurrent
   * calls for one blob share one download; a blob already seeded resolves at once.
   */
  download(metainfo: Metainfo, options: DownloadOptions): Promise<void>;
  /**
   * Resolves with piece `index` of a blob in the swarm once it is verified (at once
   * when held), so that a client can stream a blob while it downloads: read into
   * `options.into` when given (at least the piece's length; the result is then a view
   * of it). Rejects with SwarmStoppedError when the blob is not (or no longer) in the
   * swarm.
   */
  readPiece(key: string, index: number, options?: PieceReadOptions): Promise<Uint8Array>;
  /** Serves a complete blob to the swarm until `signal` aborts or `stop()`. */
  seed(metainfo: Metainfo, options: SeedOptions): void;
  /** Leaves the swarm of a blob (by metainfo id or digest); pending downloads reject. */
  stop(key: string): boolean;
  /** Progress of a blob by metainfo id or digest. */
  status(key: string): BlobStatus | undefined;
  list(): BlobStatus[];
  /** Leaves every swarm and closes every connection; idempotent. */
  close(): Promise<void>;
}
