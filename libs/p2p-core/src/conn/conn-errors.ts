/**
 * Typed errors of the peer connection layer: why a connection closed, or why a dial
 * or an inbound connection was refused. Wire violations stay ProtocolError (errors.ts);
 * these cover everything else. Kept beside the connection files so the layer owns its
 * codes; codes are never reused for a different meaning.
 */
import { KrakenError } from '@kraken/foundation';

export type ConnectionErrorCode =
  /** The peer sent no valid handshake within the handshake timeout. */
  | 'KRAKEN_P2P_HANDSHAKE_TIMEOUT'
  /** Nothing arrived from the peer (not even a keepalive) within the idle timeout. */
  | 'KRAKEN_P2P_IDLE_TIMEOUT'
  /** The peer ended the connection cleanly. */
  | 'KRAKEN_P2P_PEER_CLOSED'
  /** The socket failed (reset, refused, unreachable...); `cause` holds the system error. */
  | 'KRAKEN_P2P_SOCKET_ERROR'
  /** This side closed the connection (close() or shutdown). */
  | 'KRAKEN_P2P_CLOSED_LOCALLY'
  /** Another connection to the same peer was kept instead of this one. */
  | 'KRAKEN_P2P_DUPLICATE_CONNECTION'
  /** The connection limit was reached. */
  | 'KRAKEN_P2P_TOO_MANY_CONNECTIONS'
  /** The handshake carried this peer's own id (e.g. it dialed its own address). */
  | 'KRAKEN_P2P_SELF_CONNECTION'
  /** A dialed peer answered with another peer id than the one dialed. */
  | 'KRAKEN_P2P_UNEXPECTED_PEER'
  /**
   * The peer did not prove that it belongs to the cluster: its certificate did not verify
   * against the cluster CA, it failed or skipped the cluster token challenge, or it took
   * too long; `detail.reason` says which (a RefusalReason).
   */
  | 'KRAKEN_P2P_PEER_REFUSED'
  /** The connection manager is closed. */
  | 'KRAKEN_P2P_MANAGER_CLOSED'
  /** listen() was called on a connection manager that already listens. */
  | 'KRAKEN_P2P_ALREADY_LISTENING';

export class ConnectionError extends KrakenError {
  declare readonly code: ConnectionErrorCode;

  constructor(
    code: ConnectionErrorCode,
    message: string,
    options: { cause?: unknown; detail?: unknown } = {},
  ) {
    super(code, message, options);
  }
}
