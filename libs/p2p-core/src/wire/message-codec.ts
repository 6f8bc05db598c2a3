/**
 * Byte layouts of every message body except the handshake (see handshake.ts), and
 * the length bounds the frame decoder enforces before it buffers a body.
 * All integers are big-endian; a blob id is 32 raw bytes.
 */
import { ProtocolError } from '../errors.js';
import { MIN_HANDSHAKE_BODY, isValidBlobId } from './handshake.js';
import {
  BLOB_ID_BYTES,
  MAX_CONTROL_FRAME_LENGTH,
  MAX_PIECE_INDEX,
  MessageType,
  PIECE_HEADER_BYTES,
  REJECT_REASON_CODES,
  type Message,
  type RejectReason,
} from './messages.js';
import { MAX_PIECE_COUNT } from '../metainfo/piece-length.js';

const BITFIELD_HEADER_BYTES = BLOB_ID_BYTES + 2;

/** Allowed body sizes (excluding the type byte) for one message type. */
export interface BodyBounds {
  readonly min: number;
  readonly max: number;
}

/** Body bounds per type byte; undefined for unknown types. */
export function bodyBounds(type: number, maxPieceLength: number): BodyBounds | undefined {
  switch (type) {
    case MessageType.handshake:
      return { min: MIN_HANDSHAKE_BODY, max: MAX_CONTROL_FRAME_LENGTH - 1 };
    case MessageType.bitfield:
      return { min: BITFIELD_HEADER_BYTES, max: BITFIELD_HEADER_BYTES + Math.ceil(MAX_PIECE_COUNT / 8) };
    case MessageType.have:
    case MessageType.request:
    case MessageType.cancel:
      return { min: BLOB_ID_BYTES + 4, max: BLOB_ID_BYTES + 4 };
    case MessageType.piece:
      return { min: PIECE_HEADER_BYTES + 1, max: PIECE_HEADER_BYTES + maxPieceLength };
    case MessageType.reject:
      return { min: BLOB_ID_BYTES + 5, max: BLOB_ID_BYTES + 5 };
    case MessageType.complete:
      return { min: BLOB_ID_BYTES, max: BLOB_ID_BYTES };
    case MessageType.keepalive:
      return { min: 0, max: 0 };
    default:
      return undefined;
  }
}

const REASON_BY_CODE = new Map<number, RejectReason>(
  Object.entries(REJECT_REASON_CODES).map(([reason, code]) => [code, reason as RejectReason]),
);

/**
 * Decodes a non-handshake body whose length is already within bodyBounds.
 * Throws ProtocolError with KRAKEN_P2P_MALFORMED_MESSAGE or KRAKEN_P2P_BAD_FRAME_LENGTH.
 */
export function decodeBody(type: number, body: Buffer): Exclude<Message, { type: 'handshake' }> {
  if (type === MessageType.keepalive) return { type: 'keepalive' };
  const blobId = body.toString('hex', 0, BLOB_ID_BYTES);
  if (type === MessageType.complete) return { type: 'complete', blobId };
  if (type === MessageType.bitfield) return decodeBitfield(blobId, body);
  const index = body.readUInt32BE(BLOB_ID_BYTES);
  if (index > MAX_PIECE_INDEX) throw malformed(`piece index ${index} exceeds ${MAX_PIECE_INDEX}`);
  switch (type) {
    case MessageType.have:
      return { type: 'have', blobId, index };
    case MessageType.request:
      return { type: 'request', blobId, index };
    case MessageType.cancel:
      return { type: 'cancel', blobId, index };
    case MessageType.piece:
      return { type: 'piece', blobId, index, payload: body.subarray(PIECE_HEADER_BYTES) };
    case MessageType.reject: {
      const code = body.readUInt8(PIECE_HEADER_BYTES);
      const reason = REASON_BY_CODE.get(code);
      if (reason === undefined) throw malformed(`unknown reject reason ${code}`);
      return { type: 'reject', blobId, index, reason };
    }
    default:
      throw new ProtocolError('KRAKEN_P2P_UNKNOWN_MESSAGE_TYPE', `unknown message type ${type}`);
  }
}

function decodeBitfield(blobId: string, body: Buffer): Exclude<Message, { type: 'handshake' }> {
  const pieceCount = body.readUInt16BE(BLOB_ID_BYTES);
  if (pieceCount > MAX_PIECE_COUNT)
    throw malformed(`bitfield of ${pieceCount} pieces exceeds ${MAX_PIECE_COUNT}`);
  const bytes = Math.ceil(pieceCount / 8);
  if (body.length !== BITFIELD_HEADER_BYTES + bytes) {
    throw new ProtocolError(
      'KRAKEN_P2P_BAD_FRAME_LENGTH',
      `bitfield of ${pieceCount} pieces needs ${bytes} bytes, got ${body.length - BITFIELD_HEADER_BYTES}`,
    );
  }
  const bits = body.subarray(BITFIELD_HEADER_BYTES);
  const spare = bytes * 8 - pieceCount;
  if (spare > 0 && ((bits[bytes - 1] ?? 0) & ((1 << spare) - 1)) !== 0)
    throw malformed('bitfield has spare bits set');
  return { type: 'bitfield', blobId, pieceCount, bits };
}

/**
 * Encodes a non-handshake body. For a piece only the body header is returned; the
 * payload is written after it as a separate buffer, uncopied.
 */
export function encodeBody(message: Exclude<Message, { type: 'handshake' }>): Buffer {
  if (message.type === 'keepalive') return Buffer.alloc(0);
  checkBlobId(message.blobId);
  switch (message.type) {
    case 'complete':
      return Buffer.from(message.blobId, 'hex');
    case 'bitfield': {
      const { pieceCount, bits } = message;
      if (!Number.isInteger(pieceCount) || pieceCount < 0 || pieceCount > MAX_PIECE_COUNT) {
        throw malformed(`bitfield piece count ${pieceCount} is outside 0..${MAX_PIECE_COUNT}`);
      }
      if (bits.byteLength !== Math.ceil(pieceCount / 8))
        throw malformed('bitfield byte length does not match piece count');
      const body = Buffer.allocUnsafe(BITFIELD_HEADER_BYTES + bits.byteLength);
      body.write(message.blobId, 0, 'hex');
      body.writeUInt16BE(pieceCount, BLOB_ID_BYTES);
      body.set(bits, BITFIELD_HEADER_BYTES);
      return body;
    }
    case 'reject': {
      const code = REJECT_REASON_CODES[message.reason] as number | undefined;
      if (code === undefined) throw malformed(`unknown reject reason "${String(message.reason)}"`);
      const body = indexedBody(message.blobId, message.index, 1);
      body.writeUInt8(code, PIECE_HEADER_BYTES);
      return body;
    }
    case 'piece':
    case 'have':
    case 'request':
    case 'cancel':
      return indexedBody(message.blobId, message.index, 0);
  }
}

function indexedBody(blobId: string, index: number, extra: number): Buffer {
  if (!Number.isInteger(index) || index < 0 || index > MAX_PIECE_INDEX) {
    throw malformed(`piece index ${index} is outside 0..${MAX_PIECE_INDEX}`);
  }
  const body = Buffer.allocUnsafe(PIECE_HEADER_BYTES + extra);
  body.write(blobId, 0, 'hex');
  body.writeUInt32BE(index, BLOB_ID_BYTES);
  return body;
}

function checkBlobId(blobId: string): void {
  if (!isValidBlobId(blobId)) throw malformed('blob id must be 64 lowercase hex characters');
}

function malformed(message: string): ProtocolError {
  return new ProtocolError('KRAKEN_P2P_MALFORMED_MESSAGE', message);
}
