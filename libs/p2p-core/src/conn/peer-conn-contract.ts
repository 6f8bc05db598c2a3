/**
 * The contract of one peer connection (peer-conn.ts): its options, states, events and
 * the methods the connection manager and the scheduler use.
 */
import type { Clock } from '@kraken/foundation';
import type { Duplex } from 'node:stream';
import type { HandshakeMessage, KeepaliveMessage, Message } from '../wire/messages.js';
import type { TokenBucket } from './token-bucket.js';
import type { PieceBufferPool } from '../buffers/piece-buffer-pool.js';
import type { ChunkSource } from './reused-reads.js';
import type { ConnectionError } from './conn-errors.js';
import type { ProtocolError } from '../errors.js';

/** Bytes buffered per connection before send() asks for drain: under one piece (128 KiB and up). */
export const DEFAULT_HIGH_WATER_MARK_BYTES = 64 * 1024;

/** The narrow logger the layer needs; a pino Logger fits. */
export interface ConnLogger {
  debug(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

/** Every message but the handshake, which the connection sends itself. */
export type OutgoingMessage = Exclude<Message, HandshakeMessage>;
/** Messages reported to the caller; keepalives are consumed by the connection. */
export type IncomingMessage = Exclude<Message, HandshakeMessage | KeepaliveMessage>;

export type PeerConnDirection = 'inbound' | 'outbound';
export type PeerConnState = 'handshaking' | 'open' | 'closed';

export type PeerConnEvent =
  | { readonly type: 'open'; readonly conn: PeerConn; readonly handshake: HandshakeMessage }
  | { readonly type: 'message'; readonly conn: PeerConn; readonly message: IncomingMessage }
  | { readonly type: 'drain'; readonly conn: PeerConn }
  | { readonly type: 'close'; readonly conn: PeerConn; readonly reason: ProtocolError | ConnectionError };

export interface LocalPeer {
  readonly clusterId: string;
  /** 40 lowercase hex characters. */
  readonly peerId: string;
}

export interface PeerConnOptions {
  readonly socket: Duplex;
  readonly direction: PeerConnDirection;
  readonly local: LocalPeer;
  /** Blobs listed in our handshake. */
  readonly offered?: readonly string[] | undefined;
  readonly wanted?: readonly string[] | undefined;
  /** For a dial: the peer id the tracker named; any other id closes the connection. */
  readonly expectedPeerId?: string | undefined;
  /** How to name the other end in logs; read from the socket when omitted. */
  readonly remoteAddress?: string | undefined;
  /** Receives every event, synchronously, in order; 'close' exactly once and last. */
  readonly onEvent: (event: PeerConnEvent) => void;
  readonly handshakeTimeoutMs?: number | undefined;
  readonly keepaliveIntervalMs?: number | undefined;
  readonly idleTimeoutMs?: number | undefined;
  readonly highWaterMarkBytes?: number | undefined;
  /** Largest piece accepted from the peer (see FrameDecoderOptions). */
  readonly maxPieceLength?: number | undefined;
  /**
   * Received pieces are assembled in buffers taken from it; the payload of a piece
   * message then belongs to the receiver of the event, which gives it back when done.
   */
  readonly buffers?: PieceBufferPool | undefined;
  /**
   * The socket's bytes, when it reads into a reused buffer (reused-read-dialer.ts) rather
   * than emitting 'data': each chunk is decoded before the next read overwrites it.
   */
  readonly chunks?: ChunkSource | undefined;
  /**
   * The cluster token: both sides prove they hold it before either sends its handshake
   * (a peer that cannot is closed with KRAKEN_P2P_PEER_REFUSED). Absent: plain handshake.
   */
  readonly clusterToken?: Buffer | undefined;
  /** Piece payload bytes sent wait for tokens here. */
  readonly egress?: TokenBucket | undefined;
  /** Bytes received cost tokens here; the socket pauses while the bucket is empty. */
  readonly ingress?: TokenBucket | undefined;
  readonly clock?: Clock | undefined;
  readonly logger?: ConnLogger | undefined;
}

export interface PeerConn {
  readonly direction: PeerConnDirection;
  readonly state: PeerConnState;
  /** The peer's handshake, once received and accepted. */
  readonly remote: HandshakeMessage | undefined;
  /** `host:port` of the other end, for logs. */
  readonly remoteAddress: string;
  readonly closeReason: ProtocolError | ConnectionError | undefined;
  /** Bytes accepted by send() and not yet handed to the kernel. */
  readonly bufferedBytes: number;
  /**
   * Queues one message. Returns false when the connection now holds more than its
   * high-water mark: the caller should stop sending until 'drain'. Pieces are written
   * without copying their payload, after taking egress tokens; control messages do
   * not wait behind throttled pieces, so a peer's own requests never stall on its
   * uploads. After close, or before the peer has proven its membership (a connection
   * is handed out only once open, so callers never see that), the message is dropped
   * and false is returned.
   *
   * `onWritten` runs once the whole message has been handed to the kernel, after which
   * the connection holds no reference to a piece's payload (so its buffer may be reused).
   * It does not run for a message dropped or failed by a closing connection.
   */
  send(message: OutgoingMessage, onWritten?: () => void): boolean;
  /** Closes the connection (idempotent); 'close' reports `reason` or CLOSED_LOCALLY. */
  close(reason?: ProtocolError | ConnectionError): void;
}
