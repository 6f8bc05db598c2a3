/**
 * What the scheduler is given: who we are, where connections and pieces come from,
 * who answers announces, and the effects it runs on (timers, clock, random, logger),
 * injected so that tests drive time. Its tunables are scheduler-limits.ts; what it
 * offers in return is scheduler-interface.ts.
 */
import type { Clock } from '@kraken/foundation';
import type { AnnouncedPeer, AnnounceRequest } from '../announce/announce-protocol.js';
import type { ConnManager } from '../conn/conn-manager.js';
import type { PeerConnEvent } from '../conn/peer-conn.js';
import type { PieceStore } from '../storage/piece-store.js';
import type { PieceBufferPool } from '../buffers/piece-buffer-pool.js';
import type { SchedulerLimits } from './scheduler-limits.js';

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
  readonly timers?: Clock | undefined;
  readonly random?: (() => number) | undefined;
  readonly logger?: SchedulerLogger | undefined;
  /**
   * Piece buffers: uploads are read into them, and received pieces (assembled in them by
   * the connections) go back once written. Without it, every piece is a fresh buffer.
   */
  readonly buffers?: PieceBufferPool | undefined;
}

export const silentSchedulerLogger: SchedulerLogger = { debug() {}, info() {}, warn() {} };
