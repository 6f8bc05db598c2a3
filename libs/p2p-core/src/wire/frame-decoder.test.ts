import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ProtocolError, type ProtocolErrorCode } from '../errors.js';
import { createFrameDecoder, decodeFrames, type FrameDecoder } from './frame-decoder.js';
import { encodeMessage } from './frame-encoder.js';
import {
  MAX_CONTROL_FRAME_LENGTH,
  MAX_HANDSHAKE_BLOB_IDS,
  MessageType,
  PROTOCOL_VERSION,
  type HandshakeMessage,
  type Message,
} from './messages.js';
import { MAX_PIECE_COUNT, MAX_PIECE_LENGTH } from '../metainfo/piece-length.js';

const CLUSTER = 'dev-cluster';
const id = (s: string): string => createHash('sha256').update(s).digest('hex');
const PEER = 'ab'.repeat(20);
const HELLO: HandshakeMessage = {
  type: 'handshake',
  version: PROTOCOL_VERSION,
  clusterId: CLUSTER,
  peerId: PEER,
  offered: [id('a'), id('b')],
  wanted: [id('c')],
};

const SAMPLES: Message[] = [
  { type: 'handshake', version: PROTOCOL_VERSION, clusterId: CLUSTER, peerId: PEER, offered: [], wanted: [] },
  { type: 'bitfield', blobId: id('a'), pieceCount: 0, bits: new Uint8Array(0) },
  { type: 'bitfield', blobId: id('a'), pieceCount: 11, bits: Uint8Array.from([0b1010_0000, 0b0110_0000]) },
  {
    type: 'bitfield',
    blobId: id('a'),
    pieceCount: MAX_PIECE_COUNT,
    bits: new Uint8Array(MAX_PIECE_COUNT / 8).fill(0xff),
  },
  { type: 'have', blobId: id('a'), index: 0 },
  { type: 'have', blobId: id('b'), index: MAX_PIECE_COUNT - 1 },
  { type: 'request', blobId: id('a'), index: 7 },
  { type: 'piece', blobId: id('a'), index: 3, payload: Buffer.from('piece bytes') },
  { type: 'reject', blobId: id('a'), index: 4, reason: 'unavailable' },
  { type: 'reject', blobId: id('a'), index: 4, reason: 'overloaded' },
  { type: 'reject', blobId: id('a'), index: 4, reason: 'unknown-blob' },
  { type: 'cancel', blobId: id('a'), index: 9 },
  { type: 'complete', blobId: id('c') },
  { type: 'keepalive' },
];

function frames(...messages: Message[]): Buffer {
  return Buffer.concat(messages.flatMap((m) => encodeMessage(m)));
}

/** A raw frame with arbitrary length, type and body. */
function raw(type: number, body: Uint8Array, length = body.length + 1): Buffer {
  const header = Buffer.alloc(5);
  header.writeUInt32BE(length, 0);
  header.writeUInt8(type, 4);
  return Buffer.concat([header, body]);
}

function decoder(): FrameDecoder {
  return createFrameDecoder({ clusterId: CLUSTER });
}

function expectError(d: FrameDecoder, bytes: Buffer, code: ProtocolErrorCode): void {
  const { error } = d.feed(bytes);
  expect(error).toBeInstanceOf(ProtocolError);
  expect(error?.code).toBe(code);
}

/** Normalises Buffer/Uint8Array payloads so round trips compare by content. */
function plain(m: Message): unknown {
  if (m.type === 'piece') return { ...m, payload: Buffer.from(m.payload) };
  if (m.type === 'bitfield') return { ...m, bits: Buffer.from(m.bits) };
  return m;
}

describe('frame round trips', () => {
  it.each(SAMPLES.map((m) => [m.type, m] as const))('decodes an encoded %s', (_type, message) => {
    const d = decoder();
    const stream = message.type === 'handshake' ? frames(message) : frames(HELLO, message);
    const { messages, error } = d.feed(stream);
    expect(error).toBeUndefined();
    expect(messages.map(plain)).toEqual(
      (message.type === 'handshake' ? [message] : [HELLO, message]).map(plain),
    );
    expect(d.end()).toBeUndefined();
  });

  it('decodes a whole stream byte by byte identically', () => {
    const stream = frames(HELLO, ...SAMPLES.slice(1));
    const d = decoder();
    const out: Message[] = [];
    for (const byte of stream) {
      const { messages, error } = d.feed(Uint8Array.of(byte));
      expect(error).toBeUndefined();
      out.push(...messages);
    }
    expect(out.map(plain)).toEqual([HELLO, ...SAMPLES.slice(1)].map(plain));
    expect(d.bufferedBytes).toBe(0);
  });

  it('writes a piece as a header and the uncopied payload', () => {
    const payload = Buffer.alloc(1024, 7);
    const parts = encodeMessage({ type: 'piece', blobId: id('a'), index: 1, payload });
    expect(parts).toHaveLength(2);
    expect(parts[1]).toBe(payload);
    expect(parts[0]?.readUInt32BE(0)).toBe(1 + 36 + payload.length);
  });

  it('decodes a maximum-size piece split across many chunks', () => {
    const payload = Buffer.alloc(MAX_PIECE_LENGTH, 0x5a);
    const stream = Buffer.concat([
      frames(HELLO),
      ...encodeMessage({ type: 'piece', blobId: id('a'), index: 2, payload }),
    ]);
    const d = decoder();
    const out: Message[] = [];
    for (let at = 0; at < stream.length; at += 1 << 20)
      out.push(...d.feed(stream.subarray(at, at + (1 << 20))).messages);
    expect(d.error).toBeUndefined();
    const piece = out[1];
    expect(piece?.type === 'piece' && Buffer.from(piece.payload).equals(payload)).toBe(true);
  });

  it('handles the largest handshake a control frame allows', () => {
    const ids = Array.from({ length: MAX_HANDSHAKE_BLOB_IDS }, (_, i) => id(String(i)));
    const big: HandshakeMessage = {
      ...HELLO,
      clusterId: 'c'.repeat(63),
      offered: ids.slice(0, 1000),
      wanted: ids.slice(1000),
    };
    const [frame] = encodeMessage(big);
    expect(frame?.length).toBeLessThanOrEqual(4 + MAX_CONTROL_FRAME_LENGTH);
    const { messages, error } = createFrameDecoder({ clusterId: big.clusterId }).feed(
      frame ?? Buffer.alloc(0),
    );
    expect(error).toBeUndefined();
    expect(messages).toEqual([big]);
    expect(() => encodeMessage({ ...big, wanted: [...big.wanted, id('x')] })).toThrow(ProtocolError);
  });
});

describe('piece bodies', () => {
  const piece = { type: 'piece', blobId: id('a'), index: 5, payload: Buffer.alloc(300, 7) } as const;

  it('assembles a piece split across chunks in a buffer of allocatePiece', () => {
    const taken: Buffer[] = [];
    const d = createFrameDecoder({
      clusterId: CLUSTER,
      allocatePiece: (size) => {
        const buffer = Buffer.alloc(size);
        taken.push(buffer);
        return buffer;
      },
    });
    const bytes = frames(HELLO, piece);
    const cut = bytes.length - 100;
    expect(d.feed(bytes.subarray(0, cut)).messages.map((m) => m.type)).toEqual(['handshake']);
    const [message] = d.feed(bytes.subarray(cut)).messages;
    expect(message?.type).toBe('piece');
    expect(taken).toHaveLength(1);
    if (message?.type !== 'piece') return;
    expect(message.payload.buffer).toBe(taken[0]?.buffer);
    expect(Buffer.from(message.payload).equals(piece.payload)).toBe(true);
  });

  it('copies pieces and bitfields out of chunks that are reused (transientChunks)', () => {
    const bitfield = {
      type: 'bitfield',
      blobId: id('b'),
      pieceCount: 11,
      bits: Uint8Array.from([0xa0, 0x60]),
    } as const;
    for (const transientChunks of [false, true]) {
      const d = createFrameDecoder({ clusterId: CLUSTER, transientChunks });
      const chunk = frames(HELLO, piece, bitfield);
      const { messages } = d.feed(chunk);
      // The next read lands in the same buffer.
      chunk.fill(0);
      const [, decodedPiece, decodedBits] = messages.map(plain) as [
        unknown,
        { payload: Buffer },
        { bits: Buffer },
      ];
      expect(decodedPiece.payload.equals(piece.payload)).toBe(transientChunks);
      expect(decodedBits.bits.equals(Buffer.from(bitfield.bits))).toBe(transientChunks);
    }
  });
});

describe('protocol violations', () => {
  const blob = Buffer.from(id('a'), 'hex');
  const indexed = (index: number): Buffer =>
    Buffer.concat([blob, Buffer.from([index >>> 24, index >>> 16, index >>> 8, index])]);
  const afterHello = (): FrameDecoder => {
    const d = decoder();
    expect(d.feed(frames(HELLO)).error).toBeUndefined();
    return d;
  };

  it('requires a handshake first, checked on the header alone', () => {
    expectError(decoder(), frames({ type: 'keepalive' }), 'KRAKEN_P2P_HANDSHAKE_EXPECTED');
    // Only the 5 header bytes of a piece frame claiming 64 MiB: refused before its body.
    expectError(
      decoder(),
      raw(MessageType.piece, Buffer.alloc(0), 1 + 36 + MAX_PIECE_LENGTH),
      'KRAKEN_P2P_HANDSHAKE_EXPECTED',
    );
  });

  it('refuses a second handshake', () => {
    expectError(afterHello(), frames(HELLO), 'KRAKEN_P2P_DUPLICATE_HANDSHAKE');
  });

  it('refuses another protocol version, even with a layout it cannot parse', () => {
    expectError(
      decoder(),
      frames({ ...HELLO, version: PROTOCOL_VERSION + 1 }),
      'KRAKEN_P2P_VERSION_MISMATCH',
    );
    expectError(decoder(), raw(MessageType.handshake, Buffer.from([0, 2])), 'KRAKEN_P2P_VERSION_MISMATCH');
  });

  it('refuses another cluster', () => {
    const { error } = decoder().feed(frames({ ...HELLO, clusterId: 'other' }));
    expect(error?.code).toBe('KRAKEN_P2P_UNKNOWN_CLUSTER');
    expect(error?.message).toContain('"other"');
  });

  it('refuses malformed handshakes', () => {
    const good = encodeMessage(HELLO)[0] ?? Buffer.alloc(0);
    const body = good.subarray(5);
    expectError(
      decoder(),
      raw(MessageType.handshake, body.subarray(0, body.length - 1)),
      'KRAKEN_P2P_MALFORMED_MESSAGE',
    );
    expectError(
      decoder(),
      raw(MessageType.handshake, Buffer.concat([body, Buffer.alloc(1)])),
      'KRAKEN_P2P_MALFORMED_MESSAGE',
    );
    const badCluster = Buffer.from(body);
    badCluster.write(' ', 2 + 20 + 1, 'latin1');
    expectError(decoder(), raw(MessageType.handshake, badCluster), 'KRAKEN_P2P_MALFORMED_MESSAGE');
  });

  it('refuses unknown types, including 0x00', () => {
    expectError(afterHello(), raw(0x00, Buffer.alloc(0)), 'KRAKEN_P2P_UNKNOWN_MESSAGE_TYPE');
    expectError(afterHello(), raw(0x7f, Buffer.alloc(3)), 'KRAKEN_P2P_UNKNOWN_MESSAGE_TYPE');
  });

  it('refuses lengths that do not fit the type', () => {
    expectError(afterHello(), raw(MessageType.keepalive, Buffer.alloc(0), 0), 'KRAKEN_P2P_BAD_FRAME_LENGTH');
    expectError(afterHello(), raw(MessageType.keepalive, Buffer.alloc(1)), 'KRAKEN_P2P_BAD_FRAME_LENGTH');
    expectError(afterHello(), raw(MessageType.have, indexed(1).subarray(1)), 'KRAKEN_P2P_BAD_FRAME_LENGTH');
    expectError(
      afterHello(),
      raw(MessageType.request, Buffer.concat([indexed(1), Buffer.alloc(1)])),
      'KRAKEN_P2P_BAD_FRAME_LENGTH',
    );
    expectError(afterHello(), raw(MessageType.piece, indexed(1)), 'KRAKEN_P2P_BAD_FRAME_LENGTH');
    const bitfield = Buffer.concat([blob, Buffer.from([0, 9]), Buffer.alloc(1)]);
    expectError(afterHello(), raw(MessageType.bitfield, bitfield), 'KRAKEN_P2P_BAD_FRAME_LENGTH');
  });

  it('refuses oversized frames from the header alone', () => {
    expectError(
      afterHello(),
      raw(MessageType.piece, Buffer.alloc(0), 1 + 36 + MAX_PIECE_LENGTH + 1),
      'KRAKEN_P2P_FRAME_TOO_LARGE',
    );
    expectError(
      afterHello(),
      raw(MessageType.bitfield, Buffer.alloc(0), 0xffffffff),
      'KRAKEN_P2P_FRAME_TOO_LARGE',
    );
    expectError(
      decoder(),
      raw(MessageType.handshake, Buffer.alloc(0), MAX_CONTROL_FRAME_LENGTH + 1),
      'KRAKEN_P2P_FRAME_TOO_LARGE',
    );
    const small = createFrameDecoder({ clusterId: CLUSTER, maxPieceLength: 1024 });
    small.feed(frames(HELLO));
    expectError(small, raw(MessageType.piece, Buffer.alloc(0), 1 + 36 + 1025), 'KRAKEN_P2P_FRAME_TOO_LARGE');
  });

  it('refuses bad field values', () => {
    expectError(
      afterHello(),
      raw(MessageType.have, indexed(MAX_PIECE_COUNT)),
      'KRAKEN_P2P_MALFORMED_MESSAGE',
    );
    expectError(
      afterHello(),
      raw(MessageType.reject, Buffer.concat([indexed(1), Buffer.from([9])])),
      'KRAKEN_P2P_MALFORMED_MESSAGE',
    );
    const spare = Buffer.concat([blob, Buffer.from([0, 9]), Buffer.from([0xff, 0x81])]);
    expectError(afterHello(), raw(MessageType.bitfield, spare), 'KRAKEN_P2P_MALFORMED_MESSAGE');
    const tooMany = Buffer.concat([blob, Buffer.from([0x08, 0x01]), Buffer.alloc(257)]);
    expectError(afterHello(), raw(MessageType.bitfield, tooMany), 'KRAKEN_P2P_FRAME_TOO_LARGE');
  });

  it('delivers messages before the error, then stays failed', () => {
    const d = decoder();
    const { messages, error } = d.feed(
      Buffer.concat([frames(HELLO, { type: 'keepalive' }), raw(0x42, Buffer.alloc(0))]),
    );
    expect(messages.map((m) => m.type)).toEqual(['handshake', 'keepalive']);
    expect(error?.code).toBe('KRAKEN_P2P_UNKNOWN_MESSAGE_TYPE');
    expect(d.feed(frames({ type: 'keepalive' }))).toEqual({ messages: [], error });
    expect(d.end()).toBe(error);
  });

  it('reports a stream that ends inside a frame', () => {
    const d = decoder();
    d.feed(frames(HELLO).subarray(0, 3));
    expect(d.bufferedBytes).toBe(3);
    expect(d.end()?.code).toBe('KRAKEN_P2P_TRUNCATED_FRAME');
    const e = decoder();
    e.feed(frames(HELLO).subarray(0, 10));
    expect(e.end()?.code).toBe('KRAKEN_P2P_TRUNCATED_FRAME');
  });

  it('refuses to encode messages peers would reject', () => {
    const bad: Message[] = [
      { ...HELLO, peerId: 'xyz' },
      { ...HELLO, clusterId: 'has space' },
      { ...HELLO, offered: ['ABC'] },
      { type: 'have', blobId: id('a').toUpperCase(), index: 1 },
      { type: 'have', blobId: id('a'), index: MAX_PIECE_COUNT },
      { type: 'request', blobId: id('a'), index: -1 },
      { type: 'bitfield', blobId: id('a'), pieceCount: 9, bits: new Uint8Array(1) },
      { type: 'piece', blobId: id('a'), index: 0, payload: new Uint8Array(0) },
    ];
    for (const message of bad) expect(() => encodeMessage(message), message.type).toThrow(ProtocolError);
  });
});

describe('decodeFrames', () => {
  async function* chunks(...parts: Buffer[]): AsyncGenerator<Buffer> {
    for (const part of parts) yield part;
  }

  it('yields the messages of a byte stream', async () => {
    const stream = frames(HELLO, { type: 'have', blobId: id('a'), index: 1 });
    const out: Message[] = [];
    for await (const m of decodeFrames(chunks(stream.subarray(0, 7), stream.subarray(7)), {
      clusterId: CLUSTER,
    }))
      out.push(m);
    expect(out.map((m) => m.type)).toEqual(['handshake', 'have']);
  });

  it('yields what came before a violation, then throws it', async () => {
    const out: string[] = [];
    const run = async (): Promise<void> => {
      for await (const m of decodeFrames(chunks(frames(HELLO), raw(0x42, Buffer.alloc(0))), {
        clusterId: CLUSTER,
      }))
        out.push(m.type);
    };
    await expect(run()).rejects.toMatchObject({ code: 'KRAKEN_P2P_UNKNOWN_MESSAGE_TYPE' });
    expect(out).toEqual(['handshake']);
  });

  it('throws when the stream ends inside a frame', async () => {
    const run = async (): Promise<void> => {
      for await (const m of decodeFrames(chunks(frames(HELLO).subarray(0, 9)), { clusterId: CLUSTER }))
        expect(m).toBeUndefined();
    };
    await expect(run()).rejects.toMatchObject({ code: 'KRAKEN_P2P_TRUNCATED_FRAME' });
  });
});
