/**
 * The P2P wire vocabulary: message shapes, type bytes and hard limits. The byte
 * layouts live in message-codec.ts and handshake.ts; README.md has the table.
 *
 * Blobs are named on the wire by their metainfo id (32 raw bytes of sha256, exposed
 * here as 64 lowercase hex characters) in every message rather than by a compact
 * per-connection number. That costs ~30 bytes per control frame, which is nothing
 * next to a piece, and buys stateless framing: no id table to keep in sync, no
 * "open blob" round trip, and a blob can join a live connection at any time with
 * its first bitfield.
 */
import { MAX_PIECE_COUNT } from '../metainfo/piece-length.js';

/** Wire protocol version carried by the handshake; peers must match exactly. */
export const PROTOCOL_VERSION = 1;

/**
 * Hard maximum of a control frame's length field (type byte + payload). Only piece
 * frames may be larger, up to their header plus the decoder's maxPieceLength.
 */
export const MAX_CONTROL_FRAME_LENGTH = 64 * 1024;

/** Most blob ids (offered + wanted) one handshake may list, so it fits a control frame. */
export const MAX_HANDSHAKE_BLOB_IDS = 2000;

/** Bytes of a metainfo id on the wire (raw sha256). */
export const BLOB_ID_BYTES = 32;
/** Bytes of a peer id on the wire; exposed as 40 hex characters. */
export const PEER_ID_BYTES = 20;
/** Bytes before the payload of a piece frame's body: blob id + u32 index. */
export const PIECE_HEADER_BYTES = BLOB_ID_BYTES + 4;
/** Bytes of a frame header: u32 length + u8 type. */
export const FRAME_HEADER_BYTES = 5;

/** Type byte of each message. 0x00 is never valid, so zeroed garbage fails fast. */
export const MessageType = {
  handshake: 0x01,
  bitfield: 0x02,
  have: 0x03,
  request: 0x04,
  piece: 0x05,
  reject: 0x06,
  cancel: 0x07,
  complete: 0x08,
  keepalive: 0x09,
} as const;
export type MessageTypeName = keyof typeof MessageType;

/** Why a request was refused; the requester should ask another peer. */
export type RejectReason = 'unavailable' | 'overloaded' | 'unknown-blob';
export const REJECT_REASON_CODES: Readonly<Record<RejectReason, number>> = {
  unavailable: 1,
  overloaded: 2,
  'unknown-blob': 3,
};

/** First frame each side sends; see handshake.ts for validation rules. */
export interface HandshakeMessage {
  readonly type: 'handshake';
  readonly version: number;
  readonly clusterId: string;
  /** 40 lowercase hex characters (20 bytes). */
  readonly peerId: string;
  /** Metainfo ids of blobs the sender can serve pieces of. */
  readonly offered: readonly string[];
  /** Metainfo ids of blobs the sender is downloading. */
  readonly wanted: readonly string[];
}

/** The sender's pieces of a blob, packed MSB-first (piece 0 is the high bit of byte 0). */
export interface BitfieldMessage {
  readonly type: 'bitfield';
  readonly blobId: string;
  readonly pieceCount: number;
  /** Exactly ceil(pieceCount / 8) bytes, spare bits zero. */
  readonly bits: Uint8Array;
}

export interface HaveMessage {
  readonly type: 'have';
  readonly blobId: string;
  readonly index: number;
}

/** Asks for one whole piece. */
export interface RequestMessage {
  readonly type: 'request';
  readonly blobId: string;
  readonly index: number;
}

/** One whole piece. `payload` may share memory with the bytes the decoder was fed. */
export interface PieceMessage {
  readonly type: 'piece';
  readonly blobId: string;
  readonly index: number;
  readonly payload: Uint8Array;
}

export interface RejectMessage {
  readonly type: 'reject';
  readonly blobId: string;
  readonly index: number;
  readonly reason: RejectReason;
}

/** Withdraws a request (endgame, or the piece arrived from elsewhere). */
export interface CancelMessage {
  readonly type: 'cancel';
  readonly blobId: string;
  readonly index: number;
}

/** The sender now holds every piece of the blob and seeds it. */
export interface CompleteMessage {
  readonly type: 'complete';
  readonly blobId: string;
}

export interface KeepaliveMessage {
  readonly type: 'keepalive';
}

export type Message =
  | HandshakeMessage
  | BitfieldMessage
  | HaveMessage
  | RequestMessage
  | PieceMessage
  | RejectMessage
  | CancelMessage
  | CompleteMessage
  | KeepaliveMessage;

/** Largest piece index any message may carry. */
export const MAX_PIECE_INDEX = MAX_PIECE_COUNT - 1;
