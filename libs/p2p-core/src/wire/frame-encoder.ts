/**
 * Frame encoding: u32 length (type byte + payload) | u8 type | payload.
 * A piece's payload is handed back as its own buffer after the frame header, so a
 * piece read from disk reaches the socket without being copied into a frame.
 */
import { ProtocolError } from '../errors.js';
import { encodeHandshakeBody } from './handshake.js';
import { encodeBody } from './message-codec.js';
import { FRAME_HEADER_BYTES, MAX_CONTROL_FRAME_LENGTH, MessageType, type Message } from './messages.js';
import { MAX_PIECE_LENGTH } from '../metainfo/piece-length.js';

/**
 * Encodes one message into the buffers to write, in order: one buffer for a control
 * message, `[header, payload]` for a piece. Throws ProtocolError
 * (KRAKEN_P2P_MALFORMED_MESSAGE) for a message that peers would reject.
 */
export function encodeMessage(message: Message): Buffer[] {
  const body = message.type === 'handshake' ? encodeHandshakeBody(message) : encodeBody(message);
  const type = MessageType[message.type];
  if (message.type === 'piece') {
    const { payload } = message;
    if (payload.byteLength === 0 || payload.byteLength > MAX_PIECE_LENGTH) {
      throw new ProtocolError(
        'KRAKEN_P2P_MALFORMED_MESSAGE',
        `piece payload of ${payload.byteLength} bytes is outside 1..${MAX_PIECE_LENGTH}`,
      );
    }
    const header = Buffer.allocUnsafe(FRAME_HEADER_BYTES + body.length);
    header.writeUInt32BE(1 + body.length + payload.byteLength, 0);
    header.writeUInt8(type, 4);
    header.set(body, FRAME_HEADER_BYTES);
    const payloadBuffer = Buffer.isBuffer(payload)
      ? payload
      : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
    return [header, payloadBuffer];
  }
  if (1 + body.length > MAX_CONTROL_FRAME_LENGTH) {
    throw new ProtocolError(
      'KRAKEN_P2P_FRAME_TOO_LARGE',
      `${message.type} frame exceeds ${MAX_CONTROL_FRAME_LENGTH} bytes`,
    );
  }
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + body.length);
  frame.writeUInt32BE(1 + body.length, 0);
  frame.writeUInt8(type, 4);
  frame.set(body, FRAME_HEADER_BYTES);
  return [frame];
}
