/**
 * Streaming frame decoder for one connection. Bytes arrive in chunks cut anywhere;
 * `feed` returns the messages completed so far and, once the peer breaks the
 * protocol, a ProtocolError after which the decoder stays failed. It never throws.
 *
 * Every limit is checked on the 5-byte frame header, before any body byte is
 * buffered: unknown types, lengths that do not fit the type, oversized frames and
 * anything but a handshake as the first frame are refused up front. Bodies that lie
 * wholly inside one chunk are decoded in place (no copy); only a body split across
 * chunks is assembled, in one buffer of its exact size allocated once. So memory per
 * connection is bounded by one piece frame, and nothing is allocated per byte. A socket
 * that reads into one reused buffer (`transientChunks`) gets every piece and bitfield
 * body copied out instead, since its chunk is overwritten by the next read.
 */
import { ProtocolError } from '../errors.js';
import { decodeHandshakeBody } from './handshake.js';
import { bodyBounds, decodeBody, type BodyBounds } from './message-codec.js';
import { CHALLENGE_TYPE } from './membership-frames.js';
import { FRAME_HEADER_BYTES, MessageType, type Message } from './messages.js';
import { MAX_PIECE_LENGTH } from '../metainfo/piece-length.js';

export interface FrameDecoderOptions {
  /** The local cluster id; a handshake from another cluster is refused. */
  clusterId: string;
  /**
   * Largest piece payload accepted, at most MAX_PIECE_LENGTH (the default). Set it
   * to the largest piece length among the blobs in flight to bound memory tighter.
   */
  maxPieceLength?: number;
  /**
   * Where the body of a piece frame split across chunks is assembled (a buffer pool's
   * `take`); a fresh buffer by default. The buffer then belongs to the piece message's
   * receiver, whose payload is a view of it.
   */
  allocatePiece?: (size: number) => Buffer;
  /**
   * The chunks fed are reused once feed() returns (a socket reading into one buffer): no
   * message then shares memory with a chunk, pieces and bitfields are copied out.
   */
  transientChunks?: boolean;
}

export interface DecodeResult {
  /** Messages completed by this chunk, in order (also those before an error). */
  readonly messages: Message[];
  /** Set once the peer broke the protocol; the connection must be closed. */
  readonly error: ProtocolError | undefined;
}

export interface FrameDecoder {
  /**
   * Decodes as much of `chunk` as completes frames. Decoded messages may share
   * memory with `chunk`, so the caller must not reuse the chunk's buffer afterwards
   * (unless the decoder was made with `transientChunks`).
   */
  feed(chunk: Uint8Array): DecodeResult;
  /** Call when the stream ends: an error if it ended inside a frame. */
  end(): ProtocolError | undefined;
  /** Bytes of an unfinished frame held so far. */
  readonly bufferedBytes: number;
  /** The error that failed the decoder, if any. */
  readonly error: ProtocolError | undefined;
}

const EMPTY = Buffer.alloc(0);

export function createFrameDecoder(options: FrameDecoderOptions): FrameDecoder {
  const maxPieceLength = options.maxPieceLength ?? MAX_PIECE_LENGTH;
  if (!Number.isSafeInteger(maxPieceLength) || maxPieceLength < 1 || maxPieceLength > MAX_PIECE_LENGTH) {
    throw new RangeError(`maxPieceLength must be within 1..${MAX_PIECE_LENGTH}, got ${maxPieceLength}`);
  }
  const expectation = { clusterId: options.clusterId };
  const allocatePiece = options.allocatePiece ?? Buffer.allocUnsafe;
  const transient = options.transientChunks === true;
  // Decided once per connection so the per-frame check is an array lookup.
  const bounds: (BodyBounds | undefined)[] = Array.from({ length: 256 }, (_, type) =>
    bodyBounds(type, maxPieceLength),
  );

  const header = Buffer.alloc(FRAME_HEADER_BYTES);
  let headerFill = 0;
  let inBody = false;
  let type = 0;
  let bodyLength = 0;
  let body: Buffer | undefined;
  let bodyFill = 0;
  let handshaken = false;
  let failure: ProtocolError | undefined;

  function startFrame(length: number, frameType: number): void {
    if (length === 0)
      throw new ProtocolError('KRAKEN_P2P_BAD_FRAME_LENGTH', 'frame length 0 leaves no room for a type');
    if (!handshaken && frameType === CHALLENGE_TYPE) {
      throw new ProtocolError(
        'KRAKEN_P2P_HANDSHAKE_EXPECTED',
        'peer opened with the cluster token challenge, and this peer has no cluster token (clusterTokenFile must be set on every peer, or on none)',
      );
    }
    const allowed = bounds[frameType];
    if (allowed === undefined) {
      throw new ProtocolError(
        'KRAKEN_P2P_UNKNOWN_MESSAGE_TYPE',
        `unknown message type 0x${frameType.toString(16)}`,
        {
          type: frameType,
        },
      );
    }
    if (!handshaken && frameType !== MessageType.handshake) {
      throw new ProtocolError(
        'KRAKEN_P2P_HANDSHAKE_EXPECTED',
        `first frame has type 0x${frameType.toString(16)}, not a handshake`,
      );
    }
    if (handshaken && frameType === MessageType.handshake) {
      throw new ProtocolError('KRAKEN_P2P_DUPLICATE_HANDSHAKE', 'peer sent a second handshake');
    }
    const size = length - 1;
    if (size > allowed.max && allowed.min !== allowed.max) {
      throw new ProtocolError(
        'KRAKEN_P2P_FRAME_TOO_LARGE',
        `frame of ${length} bytes exceeds ${allowed.max + 1} for its type`,
        {
          type: frameType,
          length,
        },
      );
    }
    if (size > allowed.max || size < allowed.min) {
      throw new ProtocolError(
        'KRAKEN_P2P_BAD_FRAME_LENGTH',
        `frame of ${length} bytes does not fit type 0x${frameType.toString(16)}`,
        {
          type: frameType,
          length,
        },
      );
    }
    type = frameType;
    bodyLength = size;
  }

  function finishFrame(frameBody: Buffer): Message {
    if (type !== MessageType.handshake) return decodeBody(type, frameBody);
    const message = decodeHandshakeBody(frameBody, expectation);
    handshaken = true;
    return message;
  }

  function decode(buf: Buffer, messages: Message[]): void {
    let at = 0;
    while (at < buf.length) {
      if (!inBody) {
        if (headerFill === 0 && buf.length - at >= FRAME_HEADER_BYTES) {
          startFrame(buf.readUInt32BE(at), buf.readUInt8(at + 4));
          at += FRAME_HEADER_BYTES;
        } else {
          const take = Math.min(FRAME_HEADER_BYTES - headerFill, buf.length - at);
          buf.copy(header, headerFill, at, at + take);
          headerFill += take;
          at += take;
          if (headerFill < FRAME_HEADER_BYTES) return;
          headerFill = 0;
          startFrame(header.readUInt32BE(0), header.readUInt8(4));
        }
        if (bodyLength === 0) {
          messages.push(finishFrame(EMPTY));
          continue;
        }
        inBody = true;
      }
      const keepsBody = transient && (type === MessageType.piece || type === MessageType.bitfield);
      if (body === undefined && buf.length - at >= bodyLength && !keepsBody) {
        const whole = buf.subarray(at, at + bodyLength);
        at += bodyLength;
        inBody = false;
        messages.push(finishFrame(whole));
        continue;
      }
      body ??= type === MessageType.piece ? allocatePiece(bodyLength) : Buffer.allocUnsafe(bodyLength);
      const take = Math.min(bodyLength - bodyFill, buf.length - at);
      buf.copy(body, bodyFill, at, at + take);
      bodyFill += take;
      at += take;
      if (bodyFill < bodyLength) return;
      const assembled = body;
      body = undefined;
      bodyFill = 0;
      inBody = false;
      messages.push(finishFrame(assembled));
    }
  }

  return {
    feed(chunk) {
      const messages: Message[] = [];
      if (failure !== undefined) return { messages, error: failure };
      const buf = Buffer.isBuffer(chunk)
        ? chunk
        : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      try {
        decode(buf, messages);
      } catch (error) {
        // Every expected failure is a ProtocolError; anything else would be a bug in
        // this decoder, still reported as the peer's bad frame rather than a crash.
        failure =
          error instanceof ProtocolError
            ? error
            : new ProtocolError('KRAKEN_P2P_MALFORMED_MESSAGE', 'frame could not be decoded', {
                cause: String(error),
              });
        body = undefined;
      }
      return { messages, error: failure };
    },
    end() {
      if (failure === undefined && (inBody || headerFill > 0)) {
        failure = new ProtocolError('KRAKEN_P2P_TRUNCATED_FRAME', 'stream ended inside a frame', {
          buffered: headerFill + bodyFill,
        });
      }
      return failure;
    },
    get bufferedBytes() {
      return inBody ? bodyFill : headerFill;
    },
    get error() {
      return failure;
    },
  };
}

/**
 * Decodes a whole byte stream (e.g. a socket) as an async iterable of messages.
 * Messages before a violation are yielded first; then it throws the ProtocolError,
 * including KRAKEN_P2P_TRUNCATED_FRAME when the source ends inside a frame.
 * Errors of the source itself propagate unchanged.
 */
export async function* decodeFrames(
  source: AsyncIterable<Uint8Array>,
  options: FrameDecoderOptions,
): AsyncGenerator<Message, void, undefined> {
  const decoder = createFrameDecoder(options);
  for await (const chunk of source) {
    const { messages, error } = decoder.feed(chunk);
    yield* messages;
    if (error !== undefined) throw error;
  }
  const error = decoder.end();
  if (error !== undefined) throw error;
}
