/**
 * Typed errors of @kraken/p2p-core. Every class extends KrakenError and carries a
 * stable code; codes are never reused for a different meaning.
 */
import { KrakenError } from '@kraken/foundation';

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

/** Packed bitfield bytes of the wrong length or with spare bits set. */
export class InvalidBitfieldError extends KrakenError {
  constructor(message: string) {
    super('KRAKEN_P2P_INVALID_BITFIELD', message, { statusCode: 400 });
  }
}

/** Piece data whose length or sha256 differs from the metainfo; the sender is at fault. */
export class PieceVerificationError extends KrakenError {
  readonly index: number;
  readonly reason: 'size' | 'hash';

  constructor(index: number, reason: 'size' | 'hash', detail?: unknown) {
    super(
      'KRAKEN_P2P_BAD_PIECE',
      reason === 'size' ? `piece ${index} has the wrong length` : `piece ${index} does not match its hash`,
      { statusCode: 400, detail: { index, reason, ...(detail === undefined ? {} : { detail }) } },
    );
    this.index = index;
    this.reason = reason;
  }
}

/**
 * Chained sha256 cannot run on this node (its node exports no OpenSSL SHA256_Update, or
 * the FFI does not load): a fault of this node, not of a peer or the metainfo.
 */
export class PieceHashUnavailableError extends KrakenError {
  constructor(cause: unknown) {
    super(
      'KRAKEN_P2P_HASH_UNAVAILABLE',
      `chained sha256 is unavailable on this node: ${cause instanceof Error ? cause.message : String(cause)}`,
      { statusCode: 500, cause },
    );
  }
}

/** A read of a piece the partial blob does not hold (yet). */
export class PieceNotAvailableError extends KrakenError {
  constructor(index: number) {
    super('KRAKEN_P2P_PIECE_NOT_AVAILABLE', `piece ${index} is not available`, {
      statusCode: 404,
      detail: { index },
    });
  }
}

/** complete() on a partial blob that still misses pieces. */
export class PartialBlobIncompleteError extends KrakenError {
  constructor(digest: string, missing: number) {
    super('KRAKEN_P2P_PARTIAL_BLOB_INCOMPLETE', `blob ${digest} still misses ${missing} pieces`, {
      statusCode: 409,
      detail: { digest, missing },
    });
  }
}

/** Use of a partial blob handle after close(), complete() or discard(). */
export class PartialBlobClosedError extends KrakenError {
  constructor(digest: string) {
    super('KRAKEN_P2P_PARTIAL_BLOB_CLOSED', `partial blob ${digest} is closed`, { detail: { digest } });
  }
}

/** A token bucket wait queue at its bound; the caller should back off or shed load. */
export class TokenQueueFullError extends KrakenError {
  constructor(maxQueue: number) {
    super('KRAKEN_P2P_TOKEN_QUEUE_FULL', `bandwidth limiter queue is full (${maxQueue} waiting)`, {
      statusCode: 503,
      detail: { maxQueue },
    });
  }
}

/** A take() on, or pending at, a closed token bucket. */
export class TokenBucketClosedError extends KrakenError {
  constructor() {
    super('KRAKEN_P2P_TOKEN_BUCKET_CLOSED', 'bandwidth limiter is closed');
  }
}

/** A blob streamed while it downloaded ended without a verified copy (the client's body is cut short). */
export class ProgressiveStreamError extends KrakenError {
  constructor(digest: string, cause?: unknown) {
    super('KRAKEN_P2P_DOWNLOAD_UNVERIFIED', `download of ${digest} ended without a verified blob`, {
      statusCode: 502,
      cause,
      detail: { digest },
    });
  }
}
