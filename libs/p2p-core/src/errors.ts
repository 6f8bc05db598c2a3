/**
 * Typed errors of @kraken/p2p-core. Every class extends KrakenError and carries a
 * stable code; codes are never reused for a different meaning.
 */
import { KrakenError } from '@kraken/oci-content';

/** Stable codes of ProtocolError, one per way a peer can break the wire rules. */
export type ProtocolErrorCode =
  /** The length prefix exceeds the hard maximum for the frame's type. */
  | 'KRAKEN_P2P_FRAME_TOO_LARGE'
  /** The length prefix is too small or does not fit the message type's layout. */
  | 'KRAKEN_P2P_BAD_FRAME_LENGTH'
  /** The type byte names no known message. */
  | 'KRAKEN_P2P_UNKNOWN_MESSAGE_TYPE'
  /** A field of a correctly framed message is invalid (bad id, index, trailing bits...). */
  | 'KRAKEN_P2P_MALFORMED_MESSAGE'
  /** The first frame on a connection was not a handshake. */
  | 'KRAKEN_P2P_HANDSHAKE_EXPECTED'
  /** A second handshake arrived on the same connection. */
  | 'KRAKEN_P2P_DUPLICATE_HANDSHAKE'
  /** The peer speaks another protocol version. */
  | 'KRAKEN_P2P_VERSION_MISMATCH'
  /** The peer belongs to another cluster. */
  | 'KRAKEN_P2P_UNKNOWN_CLUSTER'
  /** The stream ended in the middle of a frame. */
  | 'KRAKEN_P2P_TRUNCATED_FRAME';

/** A peer broke the wire protocol; the connection carrying it must be closed. */
export class ProtocolError extends KrakenError {
  declare readonly code: ProtocolErrorCode;

  constructor(code: ProtocolErrorCode, message: string, detail?: unknown) {
    super(code, message, { detail });
  }
}

/** Metainfo that is malformed or internally inconsistent. */
export class InvalidMetainfoError extends KrakenError {
  constructor(message: string, options: { cause?: unknown; detail?: unknown } = {}) {
    super('KRAKEN_P2P_INVALID_METAINFO', message, { statusCode: 400, ...options });
  }
}

/** A piece index outside a blob's pieces. */
export class InvalidPieceIndexError extends KrakenError {
  constructor(index: number, pieceCount: number) {
    super('KRAKEN_P2P_INVALID_PIECE_INDEX', `piece index ${index} is outside 0..${pieceCount - 1}`, {
      statusCode: 400,
      detail: { index, pieceCount },
    });
  }
}
