import type { Clock } from '@kraken/foundation';
import { createHash } from 'node:crypto';
import net from 'node:net';
import { duplexPair, type Duplex } from 'node:stream';
import { setImmediate as tick } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { ConnectionError } from './conn-errors.js';
import { ProtocolError } from '../errors.js';
import { createFrameDecoder } from '../wire/frame-decoder.js';
import { encodeMessage } from '../wire/frame-encoder.js';
import type { Message } from '../wire/messages.js';
import { createPeerConn, type PeerConn, type PeerConnEvent, type PeerConnOptions } from './peer-conn.js';
import { createTokenBucket } from './token-bucket.js';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const BLOB = 'c'.repeat(64);

/** Timers that run only when the test advances time. */
function createFakeClock(): Clock & { advance(ms: number): void } {
  let now = 0;
  let nextId = 0;
  const timers = new Map<number, { at: number; callback: () => void }>();
  return {
    now: () => now,
    setTimeout(callback, ms) {
      const id = ++nextId;
      timers.set(id, { at: now + ms, callback });
      return id;
    },
    clearTimeout(handle) {
      timers.delete(handle as number);
    },
    advance(ms) {
      const end = now + ms;
      for (;;) {
        let due: [number, { at: number; callback: () => void }] | undefined;
        for (const entry of timers)
          if (entry[1].at <= end && (due === undefined || entry[1].at < due[1].at)) due = entry;
        if (due === undefined) break;
        timers.delete(due[0]);
        now = due[1].at;
        due[1].callback();
      }
      now = end;
    },
  };
}

interface Recorder {
  readonly events: PeerConnEvent[];
  readonly onEvent: (event: PeerConnEvent) => void;
  next(type: PeerConnEvent['type']): Promise<PeerConnEvent>;
}

function record(): Recorder {
  const events: PeerConnEvent[] = [];
  const waiters: { type: string; resolve: (event: PeerConnEvent) => void }[] = [];
  return {
    events,
    onEvent(event) {
      events.push(event);
      for (const waiter of waiters.filter((w) => w.type === event.type)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(event);
      }
    },
    next(type) {
      const seen = events.find((event) => event.type === type);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve) => waiters.push({ type, resolve }));
    },
  };
}

function closeReason(event: PeerConnEvent): ProtocolError | ConnectionError {
  if (event.type !== 'close') throw new Error(`expected close, got ${event.type}`);
  return event.reason;
}

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

/** A connected pair of PeerConns over loopback TCP. */
async function tcpPair(
  a: Partial<PeerConnOptions> = {},
  b: Partial<PeerConnOptions> = {},
): Promise<{ a: PeerConn; b: PeerConn; ra: Recorder; rb: Recorder }> {
  const ra = record();
  const rb = record();
  const server = net.createServer();
  cleanups.push(() => server.close());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no address');
  const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
  const aConn = createPeerConn({
    socket: net.connect({ host: '127.0.0.1', port: address.port }),
    direction: 'outbound',
    local: { clusterId: 'test', peerId: A },
    onEvent: ra.onEvent,
    ...a,
  });
  const bConn = createPeerConn({
    socket: await accepted,
    direction: 'inbound',
    local: { clusterId: 'test', peerId: B },
    onEvent: rb.onEvent,
    ...b,
  });
  cleanups.push(
    () => aConn.close(),
    () => bConn.close(),
  );
  return { a: aConn, b: bConn, ra, rb };
}

/** A PeerConn over an in-memory pair, with the raw other end for a scripted peer. */
function memoryConn(options: Partial<PeerConnOptions> = {}): { conn: PeerConn; raw: Duplex; rec: Recorder } {
  const [mine, raw] = duplexPair();
  const rec = record();
  const conn = createPeerConn({
    socket: mine,
    direction: 'outbound',
    local: { clusterId: 'test', peerId: A },
    onEvent: rec.onEvent,
    ...options,
  });
  cleanups.push(() => conn.close());
  return { conn, raw, rec };
}

function handshakeFrom(peerId: string, version = 1): Buffer {
  return Buffer.concat(
    encodeMessage({ type: 'handshake', version, clusterId: 'test', peerId, offered: [], wanted: [] }),
  );
}

/** Decodes what the conn wrote to the raw end. */
function readFrames(raw: Duplex): Message[] {
  const decoder = createFrameDecoder({ clusterId: 'test' });
  const messages: Message[] = [];
  raw.on('data', (chunk: Buffer) => messages.push(...decoder.feed(chunk).messages));
  return messages;
}

describe('PeerConn handshake', () => {
  it('opens both sides with the peer handshake', async () => {
    const { a, b, ra, rb } = await tcpPair({ offered: [BLOB] }, { wanted: [BLOB] });
    const [openA, openB] = await Promise.all([ra.next('open'), rb.next('open')]);
    expect(openA.type === 'open' && openA.handshake).toMatchObject({
      peerId: B,
      wanted: [BLOB],
      offered: [],
    });
    expect(openB.type === 'open' && openB.handshake).toMatchObject({ peerId: A, offered: [BLOB] });
    expect([a.state, b.state]).toEqual(['open', 'open']);
    expect(a.remote?.peerId).toBe(B);
    expect(b.direction).toBe('inbound');
  });

  it('refuses a peer of another cluster on both sides', async () => {
    const { ra, rb } = await tcpPair({}, { local: { clusterId: 'other', peerId: B } });
    const [closeA, closeB] = await Promise.all([ra.next('close'), rb.next('close')]);
    for (const reason of [closeReason(closeA), closeReason(closeB)]) {
      expect(reason).toBeInstanceOf(ProtocolError);
      expect(reason.code).toBe('KRAKEN_P2P_UNKNOWN_CLUSTER');
    }
    expect(ra.events.some((e) => e.type === 'open')).toBe(false);
    expect(rb.events.some((e) => e.type === 'open')).toBe(false);
  });

  it('refuses a peer speaking another protocol version and tells it nothing more', async () => {
    const warnings: string[] = [];
    const { conn, raw, rec } = memoryConn({ logger: { debug() {}, warn: (_o, msg) => warnings.push(msg) } });
    const received = readFrames(raw);
    raw.write(handshakeFrom(B, 2));
    const reason = closeReason(await rec.next('close'));
    expect(reason.code).toBe('KRAKEN_P2P_VERSION_MISMATCH');
    expect(reason.message).toMatch(/version 2/);
    expect(conn.state).toBe('closed');
    expect(warnings.join()).toMatch(/protocol version 2/);
    // The v2 peer got our v1 handshake first, so it can tell the mismatch on its side.
    expect(received[0]).toMatchObject({ type: 'handshake', version: 1, peerId: A });
  });

  it('closes on garbage with a ProtocolError instead of throwing', async () => {
    const { raw, rec } = memoryConn();
    raw.write(Buffer.from('GET / HTTP/1.1\r\n\r\n'));
    expect(closeReason(await rec.next('close'))).toBeInstanceOf(ProtocolError);
  });

  it('reports messages before a bad frame, then closes with its ProtocolError', async () => {
    const { raw, rec } = memoryConn();
    raw.write(handshakeFrom(B));
    raw.write(Buffer.concat(encodeMessage({ type: 'have', blobId: BLOB, index: 1 })));
    // A have frame whose length does not fit the type.
    raw.write(Buffer.from([0, 0, 0, 3, 0x03, 0, 0]));
    const reason = closeReason(await rec.next('close'));
    expect(reason.code).toBe('KRAKEN_P2P_BAD_FRAME_LENGTH');
    expect(rec.events.map((e) => e.type)).toEqual(['open', 'message', 'close']);
  });

  it('closes on a handshake carrying our own peer id or an unexpected one', async () => {
    const self = memoryConn();
    self.raw.write(handshakeFrom(A));
    expect(closeReason(await self.rec.next('close')).code).toBe('KRAKEN_P2P_SELF_CONNECTION');
    const other = memoryConn({ expectedPeerId: 'd'.repeat(40) });
    other.raw.write(handshakeFrom(B));
    expect(closeReason(await other.rec.next('close')).code).toBe('KRAKEN_P2P_UNEXPECTED_PEER');
  });

  it('times out a peer that never sends its handshake', async () => {
    const clock = createFakeClock();
    const { rec } = memoryConn({
      clock,
      handshakeTimeoutMs: 5000,
      keepaliveIntervalMs: 60_000,
      idleTimeoutMs: 60_000,
    });
    clock.advance(4999);
    expect(rec.events).toEqual([]);
    clock.advance(1);
    expect(closeReason(await rec.next('close')).code).toBe('KRAKEN_P2P_HANDSHAKE_TIMEOUT');
  });
});

describe('PeerConn messages', () => {
  it('carries many messages and large pieces intact and in order', async () => {
    const { a, ra, rb } = await tcpPair();
    await Promise.all([ra.next('open'), rb.next('open')]);
    const big = Buffer.alloc(4 * 1024 * 1024);
    for (let i = 0; i < big.length; i += 4) big.writeUInt32BE(i, i);
    const sent: Message[] = [];
    for (let index = 0; index < 200; index++) sent.push({ type: 'have', blobId: BLOB, index });
    sent.push({ type: 'piece', blobId: BLOB, index: 7, payload: big });
    sent.push({ type: 'request', blobId: BLOB, index: 3 }, { type: 'cancel', blobId: BLOB, index: 3 });
    sent.push({ type: 'piece', blobId: BLOB, index: 8, payload: big.subarray(1) });
    sent.push({ type: 'complete', blobId: BLOB });
    for (const message of sent) if (message.type !== 'handshake') a.send(message);
    const done = new Promise<void>((resolve) => {
      const check = setInterval(() => {
        if (rb.events.filter((e) => e.type === 'message').length >= sent.length) {
          clearInterval(check);
          resolve();
        }
      }, 5);
    });
    await done;
    const got = rb.events.flatMap((e) => (e.type === 'message' ? [e.message] : []));
    expect(got.map((m) => m.type)).toEqual(sent.map((m) => m.type));
    const pieces = got.filter((m) => m.type === 'piece');
    const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
    expect(pieces.map((p) => [p.index, p.payload.byteLength, sha(p.payload)])).toEqual([
      [7, big.length, sha(big)],
      [8, big.length - 1, sha(big.subarray(1))],
    ]);
    expect(got.slice(0, 200).every((m, i) => m.type === 'have' && m.index === i)).toBe(true);
  });

  it('returns false over the high-water mark and emits drain once the peer reads', async () => {
    const { conn, raw, rec } = memoryConn({ highWaterMarkBytes: 64 * 1024 });
    raw.write(handshakeFrom(B));
    await rec.next('open');
    expect(conn.send({ type: 'have', blobId: BLOB, index: 1 })).toBe(true);
    // Nobody reads the other end yet, so the piece stays buffered in the connection.
    expect(conn.send({ type: 'piece', blobId: BLOB, index: 2, payload: Buffer.alloc(256 * 1024, 1) })).toBe(
      false,
    );
    expect(conn.bufferedBytes).toBeGreaterThanOrEqual(256 * 1024);
    await tick();
    expect(rec.events.some((e) => e.type === 'drain')).toBe(false);
    const received = readFrames(raw);
    await rec.next('drain');
    await tick();
    expect(received.map((m) => m.type)).toEqual(['handshake', 'have', 'piece']);
    expect(conn.bufferedBytes).toBeLessThan(64 * 1024);
  });

  it('drops sends after close', async () => {
    const { conn } = memoryConn();
    conn.close();
    conn.close();
    expect(conn.send({ type: 'keepalive' })).toBe(false);
    expect(conn.closeReason?.code).toBe('KRAKEN_P2P_CLOSED_LOCALLY');
  });
});

describe('PeerConn data path', () => {
  it("sends a turn's frames in one write, and tells when a piece has left", async () => {
    const [mine, raw] = duplexPair();
    const rec = record();
    const conn = createPeerConn({
      socket: mine,
      direction: 'outbound',
      local: { clusterId: 'test', peerId: A },
      onEvent: rec.onEvent,
    });
    cleanups.push(() => conn.close());
    const received = readFrames(raw);
    raw.write(handshakeFrom(B));
    await rec.next('open');
    await tick();
    const written: number[] = [];
    conn.send({ type: 'have', blobId: BLOB, index: 1 });
    conn.send({ type: 'piece', blobId: BLOB, index: 2, payload: Buffer.alloc(1000, 2) }, () =>
      written.push(2),
    );
    conn.send({ type: 'request', blobId: BLOB, index: 3 });
    // Held together until the turn ends, then written at once.
    expect(mine.writableCorked).toBe(1);
    expect(written).toEqual([]);
    await tick();
    expect(mine.writableCorked).toBe(0);
    await expect.poll(() => written).toEqual([2]);
    expect(received.map((m) => m.type)).toEqual(['handshake', 'have', 'piece', 'request']);
    conn.close();
    expect(
      conn.send({ type: 'piece', blobId: BLOB, index: 4, payload: Buffer.alloc(10) }, () => written.push(4)),
    ).toBe(false);
    await tick();
    expect(written).toEqual([2]);
  });

  it('decodes chunks read into a reused buffer without keeping references to it', async () => {
    const [mine, raw] = duplexPair();
    let listener: ((chunk: Buffer) => void) | undefined;
    const rec = record();
    const conn = createPeerConn({
      socket: mine,
      direction: 'outbound',
      local: { clusterId: 'test', peerId: A },
      onEvent: rec.onEvent,
      chunks: { listen: (next) => (listener = next) },
    });
    cleanups.push(() => conn.close());
    readFrames(raw);
    const reused = Buffer.alloc(64 * 1024);
    const deliver = (bytes: Buffer) => {
      for (let at = 0; at < bytes.length; at += reused.length) {
        const n = bytes.copy(reused, 0, at, at + reused.length);
        listener?.(reused.subarray(0, n));
        // The next read overwrites the buffer.
        reused.fill(0xee);
      }
    };
    const payload = Buffer.alloc(1000, 9);
    deliver(
      Buffer.concat([
        handshakeFrom(B),
        ...encodeMessage({ type: 'piece', blobId: BLOB, index: 0, payload }),
        ...encodeMessage({ type: 'bitfield', blobId: BLOB, pieceCount: 3, bits: Uint8Array.from([0xa0]) }),
      ]),
    );
    await rec.next('open');
    const messages = rec.events.flatMap((e) => (e.type === 'message' ? [e.message] : []));
    expect(messages.map((m) => m.type)).toEqual(['piece', 'bitfield']);
    const [piece, bitfield] = messages;
    expect(piece?.type === 'piece' && Buffer.from(piece.payload).equals(payload)).toBe(true);
    expect(bitfield?.type === 'bitfield' && [...bitfield.bits]).toEqual([0xa0]);
  });
});

describe('PeerConn liveness', () => {
  it('sends keepalives when quiet and closes after the idle timeout', async () => {
    const clock = createFakeClock();
    const { raw, rec } = memoryConn({ clock, keepaliveIntervalMs: 1000, idleTimeoutMs: 3000 });
    const received = readFrames(raw);
    raw.write(handshakeFrom(B));
    await rec.next('open');
    clock.advance(1000);
    await tick();
    expect(received.map((m) => m.type)).toEqual(['handshake', 'keepalive']);
    // Traffic from the peer pushes the idle deadline back.
    raw.write(encodeMessage({ type: 'keepalive' })[0]);
    await tick();
    clock.advance(1500);
    raw.write(encodeMessage({ type: 'keepalive' })[0]);
    await tick();
    clock.advance(2999);
    // Frames leave at the end of the event loop round that sent them (peer-conn.ts batches them).
    await tick();
    expect(rec.events.some((e) => e.type === 'close')).toBe(false);
    expect(received.filter((m) => m.type === 'keepalive').length).toBeGreaterThanOrEqual(3);
    clock.advance(1);
    expect(closeReason(await rec.next('close')).code).toBe('KRAKEN_P2P_IDLE_TIMEOUT');
  });
});

describe('PeerConn bandwidth', () => {
  it('holds pieces for egress tokens while control messages go ahead', async () => {
    const clock = createFakeClock();
    const egress = createTokenBucket({ rate: 1000, burst: 1000, clock });
    const { conn, raw, rec } = memoryConn({
      clock,
      egress,
      keepaliveIntervalMs: 60_000,
      idleTimeoutMs: 60_000,
    });
    const received = readFrames(raw);
    raw.write(handshakeFrom(B));
    await rec.next('open');
    conn.send({ type: 'piece', blobId: BLOB, index: 0, payload: Buffer.alloc(800, 1) });
    conn.send({ type: 'piece', blobId: BLOB, index: 1, payload: Buffer.alloc(800, 2) });
    conn.send({ type: 'request', blobId: BLOB, index: 5 });
    await tick();
    expect(received.map((m) => m.type)).toEqual(['handshake', 'piece', 'request']);
    clock.advance(600);
    await tick();
    await tick();
    expect(received.map((m) => m.type)).toEqual(['handshake', 'piece', 'request', 'piece']);
  });

  it('pauses reading while the ingress bucket is empty', async () => {
    const clock = createFakeClock();
    const ingress = createTokenBucket({ rate: 1000, burst: 1000, clock });
    const { raw, rec } = memoryConn({ clock, ingress, keepaliveIntervalMs: 60_000, idleTimeoutMs: 60_000 });
    raw.write(handshakeFrom(B));
    await rec.next('open');
    raw.write(
      Buffer.concat(encodeMessage({ type: 'piece', blobId: BLOB, index: 0, payload: Buffer.alloc(2000) })),
    );
    await tick();
    raw.write(Buffer.concat(encodeMessage({ type: 'have', blobId: BLOB, index: 1 })));
    await tick();
    // The piece arrived (already read) but the have waits until the bucket pays off.
    expect(
      rec.events.filter((e) => e.type === 'message').map((e) => e.type === 'message' && e.message.type),
    ).toEqual(['piece']);
    clock.advance(2000);
    await tick();
    await tick();
    expect(rec.events.filter((e) => e.type === 'message')).toHaveLength(2);
  });
});
