/**
 * Admission: what a connection must get through before a PeerConn runs its handshake on
 * it, so that no blob is named to, or by, a peer outside the cluster. With TLS the
 * transport is the proof (tls-admission.ts: a server that verifies client certificates,
 * a dialer that verifies the server's); with a cluster token the proof is the challenge
 * the PeerConn runs first, and admission only hands it the current token. In plain mode
 * there is no admission at all.
 *
 * Refusals, wherever they happen, are named by one RefusalReason, for the
 * `p2p_handshake_refused_total{reason}` metric and the log line.
 */
import type net from 'node:net';
import type { Duplex } from 'node:stream';
import { ProtocolError } from '../errors.js';
import { ConnectionError } from './conn-errors.js';
import type { ConnLogger } from './peer-conn.js';
import type { FileSignature } from './reloading-files.js';

export type RefusalReason =
  /** The TLS handshake failed, or the peer's certificate did not verify against the cluster CA. */
  | 'tls'
  /** The peer's answer to the cluster token challenge was wrong. */
  | 'token'
  /** The peer skipped the challenge: it runs without a cluster token. */
  | 'no-token'
  /** The peer did not prove its membership within the handshake timeout. */
  | 'timeout'
  /** The peer's handshake named another cluster. */
  | 'cluster'
  /** The peer speaks another protocol version. */
  | 'version'
  /** The peer's first frames broke the wire protocol. */
  | 'protocol';

export const REFUSAL_REASONS: readonly RefusalReason[] = [
  'tls',
  'token',
  'no-token',
  'timeout',
  'cluster',
  'version',
  'protocol',
];

/** A connection that may run its handshake. */
export interface AdmittedSocket {
  readonly socket: Duplex;
  /** Token mode: the key of the challenge the PeerConn runs before its handshake. */
  readonly clusterToken?: Buffer | undefined;
}

export interface AdmissionHooks {
  admitted(admitted: AdmittedSocket): void;
  /** A connection refused at the transport (TLS); it is closed already. */
  refused(error: ConnectionError, remoteAddress: string): void;
}

export interface PeerAdmission {
  readonly mode: 'token' | 'tls';
  /** Reads the files now; a ConfigError names a file that cannot be used. */
  load(): Promise<void>;
  /** The server inbound peers connect to; each admitted one goes to `hooks.admitted`. */
  createServer(hooks: AdmissionHooks): Promise<net.Server>;
  /**
   * Admits a dialed stream. Rejects with KRAKEN_P2P_PEER_REFUSED when the peer fails the
   * check, or with `signal`'s reason (after closing the stream) when it aborts first.
   */
  admitOutbound(socket: Duplex, signal: AbortSignal): Promise<AdmittedSocket>;
}

export interface PeerAdmissionDeps {
  /** The TLS server's own handshake timeout (dials are timed by the connection manager). */
  readonly handshakeTimeoutMs: number;
  readonly logger?: (ConnLogger & { info(obj: object, msg: string): void }) | undefined;
  /** How a changed file is noticed; stat-based by default. */
  readonly signature?: FileSignature | undefined;
}

/**
 * The refusal a connection's close reason stands for, when it closed before its handshake
 * was accepted; undefined for closes that are not refusals (the peer went away, a
 * duplicate, a socket error).
 */
export function refusalReasonOf(reason: ProtocolError | ConnectionError): RefusalReason | undefined {
  if (reason instanceof ProtocolError) {
    if (reason.code === 'KRAKEN_P2P_UNKNOWN_CLUSTER') return 'cluster';
    if (reason.code === 'KRAKEN_P2P_VERSION_MISMATCH') return 'version';
    return 'protocol';
  }
  if (reason.code !== 'KRAKEN_P2P_PEER_REFUSED') return undefined;
  const named = (reason.detail as { reason?: unknown } | undefined)?.reason;
  return REFUSAL_REASONS.find((r) => r === named) ?? 'protocol';
}

/** A refusal, as the connection that suffered it closes with. */
export function peerRefused(reason: RefusalReason, message: string, cause?: unknown): ConnectionError {
  return new ConnectionError('KRAKEN_P2P_PEER_REFUSED', message, {
    detail: { reason },
    ...(cause === undefined ? {} : { cause }),
  });
}
