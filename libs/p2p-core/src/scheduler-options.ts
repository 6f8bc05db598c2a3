/**
 * What the scheduler is given: who we are, where connections and pieces come from,
 * who answers announces, and the limits of a swarm. Effects (timers, clock, random,
 * logger) are injected so that tests drive time.
 */
import type { AnnouncedPeer, AnnounceRequest } from './announce-protocol.js';
import type { ConnManager } from './conn-manager.js';
import type { PeerConnEvent } from './peer-conn.js';
import type { PieceStore } from './piece-store.js';

/** The tracker as the scheduler sees it: an AnnounceClient fits, tests use an in-memory one. */
export interface SchedulerAnnouncer {
  announce(
    request: AnnounceRequest,
  ): Promise<{ readonly peers: readonly AnnouncedPeer[]; readonly intervalSeconds?: number | undefined }>;
}

export interface SchedulerLocalPeer {
  readonly clusterId: string;
  /** 40 lowercase hex characters. */
  readonly peerId: string;
  /** Address announced to the tracker ("0.0.0.0" asks it to use the source address). */
  readonly host: string;
  /** Announced port; `listen()` replaces it with the bound one. */
  readonly port: number;
  /** Origins announce themselves as such, so that agents can count bytes from origins. */
  readonly origin?: boolean | undefined;
}

export interface SchedulerLimits {
  /** Connections dialed per downloading blob. */
  readonly maxPeersPerBlob: number;
  /** Requests outstanding per peer and blob. */
  readonly pipelineDepth: number;
  /** Requests outstanding per blob over all its peers. */
  readonly maxRequestsPerBlob: number;
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
  /** Announce interval until the tracker names one. */
  readonly announceIntervalMs: number;
  /** How often timed-out requests are expired and idle connections swept. */
  readonly tickMs: number;
}

export const DEFAULT_SCHEDULER_LIMITS: SchedulerLimits = {
  maxPeersPerBlob: 16,
  pipelineDepth: 4,
  maxRequestsPerBlob: 8,
  requestTimeoutMs: 15_000,
  uploadQueueLength: 16,
  idleLeecherMs: 60_000,
  idleSeederMs: 60_000,
  idleConnectionMs: 60_000,
  seedAfterCompleteMs: 10 * 60_000,
  announceIntervalMs: 3_000,
  tickMs: 1_000,
};

export interface SchedulerTimers {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface SchedulerLogger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

/** Builds the connection manager around the scheduler's event handler. */
export type ConnManagerFactory = (hooks: {
  readonly onEvent: (event: PeerConnEvent) => void;
  readonly handshakeBlobs: () => { offered: readonly string[]; wanted: readonly string[] };
}) => ConnManager;

export interface SchedulerOptions {
  readonly local: SchedulerLocalPeer;
  readonly connections: ConnManagerFactory;
  readonly pieceStore: PieceStore;
  readonly announcer: SchedulerAnnouncer;
  readonly limits?: Partial<SchedulerLimits> | undefined;
  readonly timers?: SchedulerTimers | undefined;
  readonly random?: (() => number) | undefined;
  readonly logger?: SchedulerLogger | undefined;
}

export const systemSchedulerTimers: SchedulerTimers = {
  now: () => performance.now(),
  setTimeout: (callback, ms) => {
    const handle = setTimeout(callback, ms);
    // Swarm timers must never keep a process alive on their own.
    handle.unref();
    return handle;
  },
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export const silentSchedulerLogger: SchedulerLogger = { debug() {}, info() {}, warn() {} };
