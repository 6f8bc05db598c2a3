/**
 * The set of P2P connections of one peer: it accepts inbound connections, dials
 * outbound ones, keeps at most one open connection per remote peer id and bounds the
 * total. It reports the connections it keeps through one event callback, so the
 * scheduler sees an 'open' only for the connection that survived deduplication, and
 * never sees a connection it was not told about. With an admission (TLS or the cluster
 * token), a connection runs its handshake only once admitted, and every connection
 * refused before its handshake was accepted is reported to `onRefused`.
 */
import net from 'node:net';
import { systemClock } from '@kraken/foundation';
import type { Duplex } from 'node:stream';
import { ConnectionError } from './conn-errors.js';
import type { ProtocolError } from '../errors.js';
import { MAX_HANDSHAKE_BLOB_IDS } from '../wire/messages.js';
import { refusalReasonOf, type AdmittedSocket, type PeerAdmission } from './peer-admission.js';
import { createReusedReads, type ChunkSource } from './reused-reads.js';
import {
  createPeerConn,
  type ConnLogger,
  type PeerConn,
  type PeerConnDirection,
  type PeerConnEvent,
} from './peer-conn.js';

export type {
  DialTarget,
  Dialer,
  ConnManagerOptions,
  PeerRefusal,
  ConnManager,
} from './conn-manager-contract.js';
import type { ConnManager, ConnManagerOptions, Dialer, DialTarget } from './conn-manager-contract.js';

interface Attempt {
  readonly resolve: (conn: PeerConn) => void;
  readonly reject: (reason: ProtocolError | ConnectionError) => void;
}

const defaultDialer: Dialer = ({ host, port }) => net.connect({ host, port });
const noopLogger: ConnLogger = { debug() {}, warn() {} };

export function createConnManager(options: ConnManagerOptions): ConnManager {
  const { local, onEvent, admission } = options;
  const config = options.config ?? {};
  const maxConnections = config.maxConnections ?? 200;
  const handshakeTimeoutMs = config.handshakeTimeoutMs ?? 10_000;
  const dialer = options.dial ?? defaultDialer;
  // Plain TCP connections read into one reused buffer (reused-reads.ts): those accepted, and
  // those dialed unless a dialer is injected. TLS reads its socket itself.
  const reusedReads = admission?.mode === 'tls' ? undefined : createReusedReads();
  const logger = options.logger ?? noopLogger;
  const clock = options.clock ?? systemClock;
  const all = new Set<PeerConn>();
  // Dials still being admitted (TLS handshake, token at hand); aborting one closes it.
  const admitting = new Set<AbortController>();
  // Inbound sockets of an admission's server, admitted or not, so close() ends them all.
  const inbound = new Set<net.Socket>();
  const open = new Map<string, PeerConn>();
  // Connections whose 'open' was reported; only they report later events.
  const reported = new WeakSet<PeerConn>();
  const attempts = new WeakMap<PeerConn, Attempt>();
  const dialing = new Map<string, Promise<PeerConn>>();
  let server: net.Server | undefined;
  let listenCalled = false;
  let closed = false;
  let closing: Promise<void> | undefined;

  function initiator(conn: PeerConn): string {
    return conn.direction === 'outbound' ? local.peerId : (conn.remote?.peerId ?? '');
  }

  // Both ends apply the same rule to the same pair of connections, so they agree on
  // which one to keep without talking: the one dialed by the lower peer id. Between
  // two connections from the same dialer, the established one stays.
  function keepsNew(existing: PeerConn, candidate: PeerConn): boolean {
    const a = initiator(existing);
    const b = initiator(candidate);
    return a !== b && b < a;
  }

  function handle(event: PeerConnEvent): void {
    const { conn } = event;
    if (event.type === 'open') {
      const peerId = event.handshake.peerId;
      const existing = open.get(peerId);
      if (existing !== undefined) {
        if (!keepsNew(existing, conn)) {
          conn.close(duplicate(peerId));
          return;
        }
        existing.close(duplicate(peerId));
      }
      open.set(peerId, conn);
      reported.add(conn);
      onEvent(event);
      attempts.get(conn)?.resolve(conn);
      return;
    }
    if (event.type === 'close') {
      all.delete(conn);
      // Closed before its handshake was accepted: a refusal, unless the peer just left.
      if (conn.remote === undefined) noteRefusal(event.reason, conn.direction);
      const peerId = conn.remote?.peerId;
      if (peerId !== undefined && open.get(peerId) === conn) open.delete(peerId);
      if (reported.has(conn)) onEvent(event);
      const attempt = attempts.get(conn);
      if (attempt === undefined) return;
      const winner = peerId === undefined ? undefined : open.get(peerId);
      if (event.reason.code === 'KRAKEN_P2P_DUPLICATE_CONNECTION' && winner !== undefined)
        attempt.resolve(winner);
      else attempt.reject(event.reason);
      return;
    }
    if (reported.has(conn)) onEvent(event);
  }

  function noteRefusal(reason: ProtocolError | ConnectionError, direction: PeerConnDirection): void {
    const refusal = refusalReasonOf(reason);
    if (refusal !== undefined) options.onRefused?.({ reason: refusal, direction });
  }

  /** A connection refused at admission, before any PeerConn existed: said here, once. */
  function refusedAtAdmission(
    error: ConnectionError,
    direction: PeerConnDirection,
    remoteAddress: string,
  ): void {
    logger.warn(
      { remoteAddress, direction, code: error.code, ...(error.detail as object) },
      `refusing p2p peer: ${error.message}`,
    );
    noteRefusal(error, direction);
  }

  function start(
    socket: Duplex,
    direction: PeerConnDirection,
    from: { target?: DialTarget; clusterToken?: Buffer | undefined; chunks?: ChunkSource | undefined } = {},
  ): PeerConn {
    const { target, clusterToken, chunks } = from;
    // Requests and HAVEs are small and wait on nobody: Nagle's algorithm would hold them
    // behind unacknowledged data. A piece leaves corked in one write (peer-conn.ts) anyway.
    if (socket instanceof net.Socket) socket.setNoDelay(true);
    const blobs = options.handshakeBlobs?.();
    // The handshake lists are a hint (bitfields follow per blob), so past the wire
    // limit they are cut rather than failing the connection.
    const offered = blobs?.offered.slice(0, MAX_HANDSHAKE_BLOB_IDS) ?? [];
    const wanted = blobs?.wanted.slice(0, MAX_HANDSHAKE_BLOB_IDS - offered.length) ?? [];
    const conn = createPeerConn({
      socket,
      direction,
      local,
      onEvent: handle,
      offered,
      wanted,
      expectedPeerId: target?.peerId,
      remoteAddress: target === undefined ? undefined : `${target.host}:${target.port}`,
      handshakeTimeoutMs: config.handshakeTimeoutMs,
      keepaliveIntervalMs: config.keepaliveIntervalMs,
      idleTimeoutMs: config.idleTimeoutMs,
      highWaterMarkBytes: config.highWaterMarkBytes,
      maxPieceLength: options.maxPieceLength,
      buffers: options.buffers,
      chunks,
      egress: options.egress,
      ingress: options.ingress,
      clusterToken,
      clock,
      logger,
    });
    if (conn.state !== 'closed') all.add(conn);
    return conn;
  }

  function accept(
    socket: Duplex & { remoteAddress?: string; remotePort?: number },
    clusterToken?: Buffer,
  ): void {
    if (closed || all.size >= maxConnections) {
      logger.warn(
        { remoteAddress: `${socket.remoteAddress ?? 'unknown'}:${socket.remotePort ?? 0}`, maxConnections },
        !closed
          ? 'refusing p2p connection: connection limit reached'
          : 'refusing p2p connection: shutting down',
      );
      socket.on('error', () => {});
      socket.destroy();
      return;
    }
    // Plain servers accept paused (pauseOnConnect), so that nothing is read before this;
    // a connection that cannot be taken over is resumed by adopt() and read as usual.
    const reused = socket instanceof net.Socket ? reusedReads?.adopt(socket) : undefined;
    const conn = reused?.socket ?? socket;
    try {
      start(conn, 'inbound', { clusterToken, chunks: reused?.chunks });
    } catch (error) {
      // A bad local identity or blob id from handshakeBlobs: refuse this connection
      // instead of throwing out of the server's 'connection' handler.
      logger.warn({ err: error }, 'refusing p2p connection: cannot build the handshake');
      conn.on('error', () => {});
      conn.destroy();
    }
  }

  function dialNew(target: DialTarget): Promise<PeerConn> {
    return new Promise<PeerConn>((resolve, reject) => {
      if (closed) {
        reject(new ConnectionError('KRAKEN_P2P_MANAGER_CLOSED', 'connection manager is closed'));
        return;
      }
      if (all.size + admitting.size >= maxConnections) {
        reject(
          new ConnectionError(
            'KRAKEN_P2P_TOO_MANY_CONNECTIONS',
            `connection limit ${maxConnections} reached`,
            {
              detail: { maxConnections },
            },
          ),
        );
        return;
      }
      const address = { host: target.host, port: target.port };
      const reused = options.dial === undefined ? reusedReads?.dial(address) : undefined;
      const socket = reused?.socket ?? dialer(address);
      const chunks = reused?.chunks;
      if (admission !== undefined) {
        admitThenStart(admission, socket, { target, chunks }, { resolve, reject });
        return;
      }
      try {
        // Registered before any event can fire: events come from socket I/O, later.
        attempts.set(start(socket, 'outbound', { target, chunks }), { resolve, reject });
      } catch (error) {
        socket.on('error', () => {});
        socket.destroy();
        reject(error);
      }
    });
  }

  /** A dial through admission: the PeerConn starts once the peer passed, within the handshake timeout. */
  function admitThenStart(
    use: PeerAdmission,
    socket: Duplex,
    dialed: { target: DialTarget; chunks: ChunkSource | undefined },
    attempt: Attempt,
  ): void {
    const { target } = dialed;
    const pending = new AbortController();
    admitting.add(pending);
    const timer = clock.setTimeout(() => {
      pending.abort(
        new ConnectionError('KRAKEN_P2P_HANDSHAKE_TIMEOUT', `no handshake within ${handshakeTimeoutMs} ms`, {
          detail: { handshakeTimeoutMs },
        }),
      );
    }, handshakeTimeoutMs);
    const done = () => {
      clock.clearTimeout(timer);
      admitting.delete(pending);
    };
    use.admitOutbound(socket, pending.signal).then(
      (admitted: AdmittedSocket) => {
        done();
        if (pending.signal.aborted) {
          admitted.socket.on('error', () => {});
          admitted.socket.destroy();
          attempt.reject(pending.signal.reason as ConnectionError);
          return;
        }
        try {
          // The reused-buffer reads belong to the dialed socket, not to a stream wrapped around it.
          const chunks = admitted.socket === socket ? dialed.chunks : undefined;
          attempts.set(
            start(admitted.socket, 'outbound', { target, clusterToken: admitted.clusterToken, chunks }),
            attempt,
          );
        } catch (error) {
          admitted.socket.on('error', () => {});
          admitted.socket.destroy();
          attempt.reject(error as ConnectionError);
        }
      },
      (error: unknown) => {
        done();
        socket.on('error', () => {});
        socket.destroy();
        if (error instanceof ConnectionError && error.code === 'KRAKEN_P2P_PEER_REFUSED')
          refusedAtAdmission(error, 'outbound', `${target.host}:${target.port}`);
        attempt.reject(error as ConnectionError);
      },
    );
  }

  function createListener(): Promise<net.Server> {
    if (admission === undefined) {
      return Promise.resolve(net.createServer({ pauseOnConnect: true }, (socket) => accept(socket)));
    }
    return admission
      .createServer({
        admitted: ({ socket, clusterToken }) => accept(socket, clusterToken),
        refused: (error, remoteAddress) => refusedAtAdmission(error, 'inbound', remoteAddress),
      })
      .then((listening) => {
        // Bounds connections still in their TLS handshake, which `all` does not count yet.
        listening.maxConnections = maxConnections;
        listening.on('connection', (socket: net.Socket) => {
          inbound.add(socket);
          socket.once('close', () => inbound.delete(socket));
        });
        return listening;
      });
  }

  const manager: ConnManager = {
    listen({ host = '0.0.0.0', port }) {
      if (closed) {
        return Promise.reject(
          new ConnectionError('KRAKEN_P2P_MANAGER_CLOSED', 'connection manager is closed'),
        );
      }
      if (listenCalled)
        return Promise.reject(
          new ConnectionError('KRAKEN_P2P_ALREADY_LISTENING', 'connection manager is already listening'),
        );
      listenCalled = true;
      return createListener().then((listening) => {
        if (closed) {
          listening.close();
          throw new ConnectionError('KRAKEN_P2P_MANAGER_CLOSED', 'connection manager is closed');
        }
        server = listening;
        return new Promise((resolve, reject) => {
          listening.once('error', reject);
          listening.listen({ host, port }, () => {
            listening.off('error', reject);
            listening.on('error', (error) => logger.warn({ err: error }, 'p2p listener error'));
            const address = listening.address();
            resolve({ host, port: typeof address === 'object' && address !== null ? address.port : port });
          });
        });
      });
    },
    dial(target) {
      if (target.peerId !== undefined) {
        const existing = open.get(target.peerId) ?? dialing.get(target.peerId);
        if (existing !== undefined) return Promise.resolve(existing);
        const peerId = target.peerId;
        const pending = dialNew(target).finally(() => dialing.delete(peerId));
        dialing.set(peerId, pending);
        return pending;
      }
      return dialNew(target);
    },
    get(peerId) {
      return open.get(peerId);
    },
    openConnections() {
      return open.values();
    },
    get size() {
      return all.size + admitting.size;
    },
    close() {
      if (closing !== undefined) return closing;
      closed = true;
      closing = new Promise<void>((resolve) => {
        for (const pending of [...admitting]) {
          pending.abort(new ConnectionError('KRAKEN_P2P_CLOSED_LOCALLY', 'connection manager closed'));
        }
        for (const conn of [...all]) {
          conn.close(new ConnectionError('KRAKEN_P2P_CLOSED_LOCALLY', 'connection manager closed'));
        }
        for (const socket of inbound) socket.destroy();
        if (server === undefined) resolve();
        else server.close(() => resolve());
      });
      return closing;
    },
  };

  if (options.signal?.aborted) void manager.close();
  else options.signal?.addEventListener('abort', () => void manager.close(), { once: true });
  return manager;
}

function duplicate(peerId: string): ConnectionError {
  return new ConnectionError(
    'KRAKEN_P2P_DUPLICATE_CONNECTION',
    `another connection to peer ${peerId} is kept`,
    {
      detail: { peerId },
    },
  );
}
