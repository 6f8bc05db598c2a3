/**
 * The contract of the connection manager (conn-manager.ts): what it dials, what it is
 * told, and what it offers the scheduler and the announcer.
 */
import type { Duplex } from 'node:stream';
import type { Clock } from '@kraken/foundation';
import type { ConnectionConfig } from './conn-config.js';
import type { PeerAdmission, RefusalReason } from './peer-admission.js';
import type { ConnLogger, LocalPeer, PeerConn, PeerConnDirection, PeerConnEvent } from './peer-conn.js';
import type { TokenBucket } from './token-bucket.js';
import type { PieceBufferPool } from '../buffers/piece-buffer-pool.js';

export interface DialTarget {
  readonly host: string;
  readonly port: number;
  /** The peer id the tracker named; another id at that address closes the connection. */
  readonly peerId?: string | undefined;
}

/** Opens a byte stream to a peer; `net.connect` by default. */
export type Dialer = (target: { host: string; port: number }) => Duplex;

export interface ConnManagerOptions {
  readonly local: LocalPeer;
  /** Receives the events of the connections kept (see PeerConnEvent). */
  readonly onEvent: (event: PeerConnEvent) => void;
  /** Blobs to list in each new handshake; read per connection so it stays current. */
  readonly handshakeBlobs?: (() => { offered: readonly string[]; wanted: readonly string[] }) | undefined;
  readonly config?: Partial<ConnectionConfig> | undefined;
  readonly dial?: Dialer | undefined;
  readonly maxPieceLength?: number | undefined;
  /** Where received pieces are assembled (see PeerConnOptions.buffers). */
  readonly buffers?: PieceBufferPool | undefined;
  readonly egress?: TokenBucket | undefined;
  readonly ingress?: TokenBucket | undefined;
  readonly clock?: Clock | undefined;
  readonly logger?: ConnLogger | undefined;
  /** How peers prove their membership before the handshake (TLS, cluster token); none when absent. */
  readonly admission?: PeerAdmission | undefined;
  /** Told once about each connection refused before its handshake was accepted. */
  readonly onRefused?: ((refusal: PeerRefusal) => void) | undefined;
  /** Aborting closes the manager. */
  readonly signal?: AbortSignal | undefined;
}

export interface PeerRefusal {
  readonly reason: RefusalReason;
  readonly direction: PeerConnDirection;
}

export interface ConnManager {
  /** Accepts inbound connections on `port` (0 picks a free one); resolves with the bound address. */
  listen(options: { host?: string; port: number }): Promise<{ host: string; port: number }>;
  /**
   * Resolves with the open connection to the peer at `target` once its handshake is
   * accepted: an existing one when the peer is already connected or being dialed, or
   * the surviving one when a simultaneous dial from the peer won. Rejects with the
   * ConnectionError or ProtocolError that closed the attempt. When both peers dial
   * each other at once, the connection resolved here may still be closed as a
   * duplicate when the other one opens; follow the 'open' and 'close' events.
   */
  dial(target: DialTarget): Promise<PeerConn>;
  /** The open connection to a peer id, if any. */
  get(peerId: string): PeerConn | undefined;
  /** Open connections, one per peer id. */
  openConnections(): IterableIterator<PeerConn>;
  /** Open plus handshaking (and dials being admitted) connections; what maxConnections bounds. */
  readonly size: number;
  /** Stops listening and closes every connection; idempotent. */
  close(): Promise<void>;
}
