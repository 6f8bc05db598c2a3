/**
 * One connection to one peer: the handshake, then framed messages for every blob the
 * two peers share. The connection never touches swarm state; it reports what happens
 * (open, message, drain, close) to one callback, so that a single-writer scheduler can
 * apply each event on its own loop. Sending follows undici's dispatch(): send() always
 * accepts the message and returns false once the connection holds more than its
 * high-water mark, and a 'drain' event follows when it is below again. In a cluster with
 * a token, the cluster token challenge (cluster-token-challenge.ts) runs before the
 * handshake, and the handshake goes out only once the peer has proven that it holds the
 * token.
 */
import { systemClock } from '@kraken/foundation';
import { randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { createTokenChallenge, type TokenChallenge } from './cluster-token-challenge.js';
import { ConnectionError } from './conn-errors.js';
import { ProtocolError } from '../errors.js';
import { createFrameDecoder } from '../wire/frame-decoder.js';
import { encodeMessage } from '../wire/frame-encoder.js';
import { NONCE_BYTES } from '../wire/membership-frames.js';
import {
  PROTOCOL_VERSION,
  type HandshakeMessage,
  type Message,
  type PieceMessage,
} from '../wire/messages.js';

export { DEFAULT_HIGH_WATER_MARK_BYTES } from './peer-conn-contract.js';
export type {
  ConnLogger,
  OutgoingMessage,
  IncomingMessage,
  PeerConnDirection,
  PeerConnState,
  PeerConnEvent,
  LocalPeer,
  PeerConnOptions,
  PeerConn,
} from './peer-conn-contract.js';
import { DEFAULT_HIGH_WATER_MARK_BYTES } from './peer-conn-contract.js';
import type { ConnLogger, PeerConn, PeerConnOptions, PeerConnState } from './peer-conn-contract.js';

const noopLogger: ConnLogger = { debug() {}, warn() {} };

export function createPeerConn(options: PeerConnOptions): PeerConn {
  const { socket, direction, local, onEvent, egress, ingress } = options;
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? noopLogger;
  const handshakeTimeoutMs = options.handshakeTimeoutMs ?? 10_000;
  const keepaliveIntervalMs = options.keepaliveIntervalMs ?? 30_000;
  const idleTimeoutMs = options.idleTimeoutMs ?? 90_000;
  const highWaterMark = options.highWaterMarkBytes ?? DEFAULT_HIGH_WATER_MARK_BYTES;
  const throttleEgress = egress !== undefined && !egress.unlimited;
  const throttleIngress = ingress !== undefined && !ingress.unlimited;
  const pool = options.buffers;
  const decoder = createFrameDecoder({
    clusterId: local.clusterId,
    ...(options.maxPieceLength === undefined ? {} : { maxPieceLength: options.maxPieceLength }),
    ...(pool === undefined ? {} : { allocatePiece: (size: number) => pool.take(size) }),
    transientChunks: options.chunks !== undefined,
  });
  const remoteAddress = options.remoteAddress ?? describeRemote(socket);
  // Ends waits on the token buckets when the connection closes.
  const lifetime = new AbortController();

  let state: PeerConnState = 'handshaking';
  let remote: HandshakeMessage | undefined;
  let closeReason: ProtocolError | ConnectionError | undefined;
  let lastSentAt = clock.now();
  let lastReceivedAt = lastSentAt;
  let livenessTimer: unknown;
  let needDrain = false;
  // Pieces waiting for egress tokens, in order; bounded by the caller honouring send().
  const throttled: { message: PieceMessage; onWritten: (() => void) | undefined }[] = [];
  let throttledBytes = 0;
  let pumping = false;
  // Set while the cluster token challenge runs; the handshake waits for it.
  let challenge: TokenChallenge | undefined =
    options.clusterToken === undefined
      ? undefined
      : createTokenChallenge({
          token: options.clusterToken,
          clusterId: local.clusterId,
          direction,
          nonce: randomBytes(NONCE_BYTES),
        });

  const conn: PeerConn = {
    direction,
    get state() {
      return state;
    },
    get remote() {
      return remote;
    },
    remoteAddress,
    get closeReason() {
      return closeReason;
    },
    get bufferedBytes() {
      return socket.writableLength + throttledBytes;
    },
    send(message, onWritten) {
      if (state === 'closed' || challenge !== undefined) return false;
      if (message.type === 'piece' && throttleEgress) {
        if (throttled.length === 0 && egress.tryTake(message.payload.byteLength)) write(message, onWritten);
        else {
          throttled.push({ message, onWritten });
          throttledBytes += message.payload.byteLength;
          if (!pumping) void pump();
        }
      } else write(message, onWritten);
      return underWaterMark();
    },
    close(reason) {
      finish(reason ?? new ConnectionError('KRAKEN_P2P_CLOSED_LOCALLY', 'connection closed locally'));
    },
  };

  function underWaterMark(): boolean {
    if (socket.writableLength + throttledBytes < highWaterMark) return true;
    needDrain = true;
    return false;
  }

  // Frames sent in one round of the event loop (the HAVEs and requests the pieces stored
  // in it cause, the answers to the requests read in it, a piece's header and payload)
  // leave together in one write at its end, not as one small segment each: on a busy
  // connection that is thousands of syscalls, and wake-ups of the receiver, fewer a second.
  let batching = false;
  function endBatch(): void {
    batching = false;
    socket.uncork();
  }

  function write(message: Message, onWritten?: () => void): void {
    const buffers = encodeMessage(message);
    if (!batching) {
      batching = true;
      socket.cork();
      setImmediate(endBatch);
    }
    const last = buffers.length - 1;
    const written =
      onWritten === undefined
        ? onFlushed
        : (err?: Error | null) => {
            onFlushed();
            if (err == null) onWritten();
          };
    buffers.forEach((buffer, i) => socket.write(buffer, i === last ? written : onFlushed));
    lastSentAt = clock.now();
  }

  // Called by the socket once a buffer reached the kernel; writableLength is already
  // reduced by then, so this is where the connection drops below its mark.
  function onFlushed(): void {
    if (needDrain && state !== 'closed' && socket.writableLength + throttledBytes < highWaterMark) {
      needDrain = false;
      onEvent({ type: 'drain', conn });
    }
  }

  async function pump(): Promise<void> {
    pumping = true;
    try {
      for (let next = throttled[0]; next !== undefined; next = throttled[0]) {
        const bytes = next.message.payload.byteLength;
        await egress?.take(bytes, { signal: lifetime.signal });
        if (state === 'closed') return;
        throttled.shift();
        throttledBytes -= bytes;
        write(next.message, next.onWritten);
      }
      onFlushed();
    } catch (error) {
      // Aborted by close, or the bucket refused (closed, or too many waiters).
      if (state !== 'closed') {
        finish(
          new ConnectionError('KRAKEN_P2P_SOCKET_ERROR', 'egress bandwidth unavailable', { cause: error }),
        );
      }
    } finally {
      pumping = false;
    }
  }

  function onData(chunk: Buffer): void {
    if (state === 'closed') return;
    lastReceivedAt = clock.now();
    if (throttleIngress && !ingress.tryTake(chunk.byteLength)) {
      // The chunk is already in memory, so decode it now and read no more until the
      // bucket has paid for it.
      socket.pause();
      ingress.take(chunk.byteLength, { signal: lifetime.signal }).then(
        () => {
          if (state !== 'closed') socket.resume();
        },
        (error: unknown) => {
          if (state !== 'closed') {
            finish(
              new ConnectionError('KRAKEN_P2P_SOCKET_ERROR', 'ingress bandwidth unavailable', {
                cause: error,
              }),
            );
          }
        },
      );
    }
    // The challenge may hold on to an unfinished frame: a reused chunk is copied for it.
    const frames =
      challenge === undefined
        ? chunk
        : proveMembership(challenge, options.chunks === undefined ? chunk : Buffer.from(chunk));
    if (frames === undefined || frames.length === 0) return;
    const { messages, error } = decoder.feed(frames);
    for (const message of messages) {
      // An event handler may have closed the connection (getter: not narrowed).
      if (conn.state === 'closed') return;
      if (message.type === 'handshake') accept(message);
      else if (message.type !== 'keepalive') onEvent({ type: 'message', conn, message });
    }
    if (error !== undefined) finish(error);
  }

  /**
   * Runs the challenge on bytes received before the peer proved its membership: returns
   * what followed its proof (for the decoder) once it has, undefined until then.
   */
  function proveMembership(running: TokenChallenge, chunk: Buffer): Buffer | undefined {
    const step = running.feed(chunk);
    if (step.state === 'refused') {
      finish(step.error);
      return undefined;
    }
    if (step.send !== undefined) socket.write(step.send);
    if (step.state === 'pending') return undefined;
    challenge = undefined;
    sendHandshake();
    return step.rest;
  }

  function sendHandshake(): void {
    for (const buffer of handshakeFrame) socket.write(buffer, onFlushed);
    lastSentAt = clock.now();
  }

  function accept(handshake: HandshakeMessage): void {
    if (handshake.peerId === local.peerId) {
      finish(new ConnectionError('KRAKEN_P2P_SELF_CONNECTION', 'peer handshake carries our own peer id'));
      return;
    }
    if (options.expectedPeerId !== undefined && handshake.peerId !== options.expectedPeerId) {
      finish(
        new ConnectionError(
          'KRAKEN_P2P_UNEXPECTED_PEER',
          `dialed peer ${options.expectedPeerId}, reached another`,
          {
            detail: { expected: options.expectedPeerId, actual: handshake.peerId },
          },
        ),
      );
      return;
    }
    clock.clearTimeout(handshakeTimer);
    remote = handshake;
    state = 'open';
    onEvent({ type: 'open', conn, handshake });
  }

  function onEnd(): void {
    finish(decoder.end() ?? new ConnectionError('KRAKEN_P2P_PEER_CLOSED', 'peer closed the connection'));
  }

  function onError(error: Error): void {
    finish(
      new ConnectionError('KRAKEN_P2P_SOCKET_ERROR', `socket error: ${error.message}`, { cause: error }),
    );
  }

  function onClose(): void {
    finish(new ConnectionError('KRAKEN_P2P_PEER_CLOSED', 'connection closed'));
  }

  // One timer for both keepalive and idle: it fires at the earlier deadline and
  // re-arms itself, so traffic only updates two timestamps instead of timers.
  function checkLiveness(): void {
    if (state === 'closed') return;
    const now = clock.now();
    if (now - lastReceivedAt >= idleTimeoutMs) {
      finish(
        new ConnectionError('KRAKEN_P2P_IDLE_TIMEOUT', `nothing received for ${idleTimeoutMs} ms`, {
          detail: { idleTimeoutMs },
        }),
      );
      return;
    }
    // Nothing but the challenge's own frames may precede our handshake.
    if (challenge === undefined && now - lastSentAt >= keepaliveIntervalMs) write({ type: 'keepalive' });
    const next = Math.min(lastSentAt + keepaliveIntervalMs, lastReceivedAt + idleTimeoutMs) - now;
    livenessTimer = clock.setTimeout(checkLiveness, Math.max(1, next));
  }

  function finish(reason: ProtocolError | ConnectionError): void {
    if (state === 'closed') return;
    state = 'closed';
    closeReason = reason;
    clock.clearTimeout(handshakeTimer);
    clock.clearTimeout(livenessTimer);
    lifetime.abort(reason);
    throttled.length = 0;
    throttledBytes = 0;
    if (options.chunks === undefined) socket.off('data', onData);
    else options.chunks.listen(() => {});
    socket.off('end', onEnd);
    socket.off('close', onClose);
    // A late socket error after destroy must not become an unhandled 'error' event.
    socket.off('error', onError);
    socket.on('error', () => {});
    socket.destroy();
    const detail = { remoteAddress, peerId: remote?.peerId, direction, code: reason.code };
    if (reason instanceof ProtocolError)
      logger.warn({ ...detail, err: reason }, `peer broke the wire protocol: ${reason.message}`);
    else if (reason.code === 'KRAKEN_P2P_PEER_REFUSED')
      logger.warn({ ...detail, ...(reason.detail as object) }, `refusing p2p peer: ${reason.message}`);
    else if (reason.code === 'KRAKEN_P2P_CLOSED_LOCALLY' || reason.code === 'KRAKEN_P2P_PEER_CLOSED') {
      logger.debug(detail, `p2p connection closed: ${reason.message}`);
    } else logger.warn(detail, `p2p connection closed: ${reason.message}`);
    onEvent({ type: 'close', conn, reason });
  }

  // Encoded before anything is wired up, so that a bad local identity throws here
  // without leaving timers or listeners behind.
  const handshakeFrame = encodeMessage({
    type: 'handshake',
    version: PROTOCOL_VERSION,
    clusterId: local.clusterId,
    peerId: local.peerId,
    offered: options.offered ?? [],
    wanted: options.wanted ?? [],
  });
  if (options.chunks === undefined) socket.on('data', onData);
  else options.chunks.listen(onData);
  socket.on('end', onEnd);
  socket.on('error', onError);
  socket.on('close', onClose);
  const handshakeTimer = clock.setTimeout(() => {
    if (state !== 'handshaking') return;
    finish(
      challenge === undefined
        ? new ConnectionError(
            'KRAKEN_P2P_HANDSHAKE_TIMEOUT',
            `no handshake within ${handshakeTimeoutMs} ms`,
            {
              detail: { handshakeTimeoutMs },
            },
          )
        : new ConnectionError(
            'KRAKEN_P2P_PEER_REFUSED',
            `peer did not prove its membership within ${handshakeTimeoutMs} ms`,
            { detail: { reason: 'timeout', handshakeTimeoutMs } },
          ),
    );
  }, handshakeTimeoutMs);
  livenessTimer = clock.setTimeout(checkLiveness, Math.min(keepaliveIntervalMs, idleTimeoutMs));
  // Both sides send their handshake (or first their challenge) at once, without waiting
  // for the other's.
  if (challenge === undefined) sendHandshake();
  else socket.write(challenge.opening);
  return conn;
}

function describeRemote(socket: Duplex): string {
  const { remoteAddress, remotePort } = socket as Duplex & { remoteAddress?: string; remotePort?: number };
  return remoteAddress === undefined ? 'unknown' : `${remoteAddress}:${remotePort ?? 0}`;
}
