/**
 * Property tests: whatever bytes a peer sends, cut however the network cuts them,
 * the decoder yields valid messages or a ProtocolError, and never anything else.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../errors.js';
import { createFrameDecoder, type FrameDecoder } from './frame-decoder.js';
import { encodeMessage } from './frame-encoder.js';
import {
  MessageType,
  PROTOCOL_VERSION,
  type HandshakeMessage,
  type Message,
  type RejectReason,
} from './messages.js';
import { MAX_PIECE_COUNT } from '../metainfo/piece-length.js';

const CLUSTER = 'prod-1';
const hex = (bytes: number): fc.Arbitrary<string> =>
  fc.uint8Array({ minLength: bytes, maxLength: bytes }).map((b) => Buffer.from(b).toString('hex'));
const blobId = hex(32);
const index = fc.integer({ min: 0, max: MAX_PIECE_COUNT - 1 });

const handshake: fc.Arbitrary<HandshakeMessage> = fc.record({
  type: fc.constant('handshake' as const),
  version: fc.constant(PROTOCOL_VERSION),
  clusterId: fc.constant(CLUSTER),
  peerId: hex(20),
  offered: fc.array(blobId, { maxLength: 5 }),
  wanted: fc.array(blobId, { maxLength: 5 }),
});

const bitfield: fc.Arbitrary<Message> = fc
  .tuple(blobId, fc.integer({ min: 0, max: MAX_PIECE_COUNT }), fc.infiniteStream(fc.boolean()))
  .map(([id, pieceCount, flags]) => {
    const bits = new Uint8Array(Math.ceil(pieceCount / 8));
    for (let i = 0; i < pieceCount; i++)
      if (flags.next().value === true) bits[i >> 3] = (bits[i >> 3] ?? 0) | (0x80 >> (i & 7));
    return { type: 'bitfield', blobId: id, pieceCount, bits };
  });

const control: fc.Arbitrary<Message> = fc.oneof(
  bitfield,
  fc.record({ type: fc.constant('have' as const), blobId, index }),
  fc.record({ type: fc.constant('request' as const), blobId, index }),
  fc.record({ type: fc.constant('cancel' as const), blobId, index }),
  fc.record({
    type: fc.constant('reject' as const),
    blobId,
    index,
    reason: fc.constantFrom<RejectReason>('unavailable', 'overloaded', 'unknown-blob'),
  }),
  fc.record({ type: fc.constant('complete' as const), blobId }),
  fc.constant<Message>({ type: 'keepalive' }),
  fc.record({
    type: fc.constant('piece' as const),
    blobId,
    index,
    payload: fc.uint8Array({ minLength: 1, maxLength: 3000 }),
  }),
);

/** Cuts `bytes` at the given (sorted, deduplicated) offsets. */
function split(bytes: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const parts: Buffer[] = [];
  let from = 0;
  for (const point of [...points, bytes.length]) {
    parts.push(bytes.subarray(from, point));
    from = point;
  }
  return parts;
}

function feedAll(
  d: FrameDecoder,
  parts: Buffer[],
): { messages: Message[]; error: ProtocolError | undefined } {
  const messages: Message[] = [];
  let error: ProtocolError | undefined;
  for (const part of parts) {
    const result = d.feed(part);
    messages.push(...result.messages);
    error = result.error;
  }
  return { messages, error };
}

function plain(m: Message): unknown {
  if (m.type === 'piece') return { ...m, payload: Buffer.from(m.payload) };
  if (m.type === 'bitfield') return { ...m, bits: Buffer.from(m.bits) };
  return m;
}

const KNOWN_TYPES = new Set<string>(Object.keys(MessageType));

describe('frame decoder properties', () => {
  it('decodes valid streams identically however they are split', () => {
    fc.assert(
      fc.property(
        handshake,
        fc.array(control, { maxLength: 20 }),
        fc.array(fc.nat(), { maxLength: 40 }),
        (hello, rest, cuts) => {
          const stream = Buffer.concat([hello, ...rest].flatMap((m) => encodeMessage(m)));
          const d = createFrameDecoder({ clusterId: CLUSTER });
          const { messages, error } = feedAll(d, split(stream, cuts));
          expect(error).toBeUndefined();
          expect(d.end()).toBeUndefined();
          expect(messages.map(plain)).toEqual([hello, ...rest].map(plain));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('never throws on arbitrary bytes and yields only well-typed messages or a ProtocolError', () => {
    fc.assert(
      fc.property(
        fc.boolean(),
        handshake,
        fc.uint8Array({ maxLength: 2000 }),
        fc.array(fc.nat(), { maxLength: 30 }),
        (validStart, hello, garbage, cuts) => {
          // Half the runs start with a valid handshake so garbage reaches the post-handshake states.
          const prefix = validStart ? Buffer.concat(encodeMessage(hello)) : Buffer.alloc(0);
          const d = createFrameDecoder({ clusterId: CLUSTER, maxPieceLength: 4096 });
          const { messages, error } = feedAll(d, split(Buffer.concat([prefix, garbage]), cuts));
          const ended = d.end();
          for (const m of messages) expect(KNOWN_TYPES.has(m.type)).toBe(true);
          if (error !== undefined) expect(error).toBeInstanceOf(ProtocolError);
          if (ended !== undefined) expect(ended).toBeInstanceOf(ProtocolError);
          if (messages.length > 0) expect(messages[0]?.type).toBe('handshake');
          // Whatever decoded re-encodes to frames that decode to the same messages.
          const again = feedAll(createFrameDecoder({ clusterId: CLUSTER }), [
            Buffer.concat(messages.flatMap((m) => encodeMessage(m))),
          ]);
          expect(again.error).toBeUndefined();
          expect(again.messages.map(plain)).toEqual(messages.map(plain));
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('survives valid streams with single bytes corrupted', () => {
    fc.assert(
      fc.property(
        handshake,
        fc.array(control, { minLength: 1, maxLength: 10 }),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        (hello, rest, at, xor, cuts) => {
          const stream = Buffer.concat([hello, ...rest].flatMap((m) => encodeMessage(m)));
          const position = at % stream.length;
          stream[position] = (stream[position] ?? 0) ^ xor;
          const d = createFrameDecoder({ clusterId: CLUSTER });
          const { messages, error } = feedAll(d, split(stream, cuts));
          if (error !== undefined) expect(error).toBeInstanceOf(ProtocolError);
          for (const m of messages) expect(KNOWN_TYPES.has(m.type)).toBe(true);
          expect(() => d.end()).not.toThrow();
        },
      ),
      { numRuns: 500 },
    );
  });
});
