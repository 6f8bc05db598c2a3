/**
 * Admission by mutual TLS with the cluster CA: every P2P connection is TLS 1.3 and both ends
 * present a certificate issued by the cluster CA. The listener starts a PeerConn only once it
 * has verified the dialer's certificate, so it never names a blob to an outsider; the dialer
 * starts one once it has verified the listener's, so its handshake (the first mention of a
 * blob) can only reach a member, which drops it unread if it refuses the dialer's certificate
 * (TLS 1.3 tells the client about that only after its handshake is done).
 *
 * Peers are dialed at whatever address the tracker hands out (often the source address of
 * an announce), which certificates do not name, so host names are not checked: the CA's
 * signature is the proof of membership, and the handshake still checks the peer id.
 *
 * The files are read again when they change (reloading-files.ts): a dial asks for the
 * current set first; the server picks it per connection through SNI, which every dialer
 * sends (P2P_SERVER_NAME), and a client without SNI gets the set read last. A verification
 * failure on either side closes the connection and is reported as a refusal.
 */
import net from 'node:net';
import tls, { type SecureContext, type SecureContextOptions, type TLSSocket } from 'node:tls';
import type { Duplex } from 'node:stream';
import { ConnectionError } from './conn-errors.js';
import type { PeerTlsConfig } from './membership-config.js';
import {
  peerRefused,
  type AdmittedSocket,
  type PeerAdmission,
  type PeerAdmissionDeps,
} from './peer-admission.js';
import { createReloadingFiles } from './reloading-files.js';

/** Sent as SNI by every dialer, so that the server looks at its files for each connection. */
export const P2P_SERVER_NAME = 'kraken-p2p';
const MIN_VERSION = 'TLSv1.3';

interface TlsMaterial {
  readonly options: SecureContextOptions;
  readonly context: SecureContext;
}

export function createTlsAdmission(config: PeerTlsConfig, deps: PeerAdmissionDeps): PeerAdmission {
  const material = createReloadingFiles<TlsMaterial>({
    label: 'p2p.tls',
    files: [
      { key: 'certFile', path: config.certFile },
      { key: 'keyFile', path: config.keyFile },
      { key: 'caFile', path: config.caFile },
    ],
    build: ({ certFile, keyFile, caFile }) => {
      // Without a CA certificate every peer would be refused; say so at start instead.
      if (caFile === undefined || !caFile.includes('-----BEGIN CERTIFICATE-----'))
        throw new Error('caFile holds no PEM certificate');
      const options: SecureContextOptions = {
        cert: certFile,
        key: keyFile,
        ca: caFile,
        minVersion: MIN_VERSION,
      };
      // Throws when the key does not match the certificate, or a file does not parse.
      return { options, context: tls.createSecureContext(options) };
    },
    signature: deps.signature,
    logger: deps.logger,
  });

  return {
    mode: 'tls',
    async load() {
      await material.load();
    },

    async createServer(hooks) {
      let applied = await material.current();
      const server = tls.createServer({
        ...applied.options,
        requestCert: true,
        // Checked on 'secureConnection' instead, so that a refusal is logged with its reason.
        rejectUnauthorized: false,
        handshakeTimeout: deps.handshakeTimeoutMs,
        SNICallback: (_servername, callback) => {
          material.current().then(
            (current) => {
              if (current !== applied) {
                applied = current;
                // Clients without SNI get it too from now on.
                server.setSecureContext(current.options);
              }
              callback(null, current.context);
            },
            (error: Error) => callback(error, undefined),
          );
        },
      });
      const refuse = (socket: TLSSocket, error: ConnectionError) => {
        const remoteAddress = describeRemote(socket);
        socket.on('error', () => {});
        socket.destroy();
        hooks.refused(error, remoteAddress);
      };
      server.on('secureConnection', (socket: TLSSocket) => {
        if (!socket.authorized) {
          const why =
            socket.authorizationError === null ? 'none presented' : String(socket.authorizationError);
          refuse(socket, peerRefused('tls', `peer certificate not accepted (${why})`));
          return;
        }
        hooks.admitted({ socket });
      });
      server.on('tlsClientError', (error: NodeJS.ErrnoException, socket: TLSSocket) => {
        refuse(
          socket,
          error.code === 'ERR_TLS_HANDSHAKE_TIMEOUT'
            ? peerRefused('timeout', `no TLS handshake within ${deps.handshakeTimeoutMs} ms`)
            : peerRefused('tls', `TLS handshake failed (${error.code ?? 'error'})`),
        );
      });
      return server;
    },

    async admitOutbound(raw, signal) {
      const { context } = await material.current();
      return new Promise<AdmittedSocket>((resolve, reject) => {
        // Errors before the TCP connection is up are the network's, not refusals.
        let connected = !(raw instanceof net.Socket) || !raw.connecting;
        const onConnect = () => {
          connected = true;
        };
        raw.once('connect', onConnect);
        const socket = tls.connect({
          socket: raw,
          secureContext: context,
          servername: P2P_SERVER_NAME,
          minVersion: MIN_VERSION,
          checkServerIdentity: () => undefined,
        });
        const settle = (error?: unknown) => {
          socket.off('secureConnect', onSecure);
          socket.off('error', onError);
          socket.off('close', onClose);
          raw.off('connect', onConnect);
          signal.removeEventListener('abort', onAbort);
          // A late error must never be an unhandled 'error' event; the PeerConn adds its own.
          socket.on('error', () => {});
          if (error === undefined) {
            resolve({ socket });
            return;
          }
          socket.destroy();
          raw.destroy();
          reject(error);
        };
        const onSecure = () => settle();
        const onError = (error: NodeJS.ErrnoException) => {
          if (!connected) {
            settle(
              new ConnectionError('KRAKEN_P2P_SOCKET_ERROR', `socket error: ${error.message}`, {
                cause: error,
              }),
            );
            return;
          }
          const code = error.code ?? 'error';
          // OpenSSL's verification results are codes without Node's ERR_ prefix.
          const message = code.startsWith('ERR_')
            ? `TLS handshake failed (${code})`
            : `peer certificate not accepted (${code})`;
          settle(peerRefused('tls', message));
        };
        const onClose = () =>
          settle(
            connected
              ? peerRefused('tls', 'peer closed the connection during the TLS handshake')
              : new ConnectionError('KRAKEN_P2P_PEER_CLOSED', 'connection closed'),
          );
        const onAbort = () => {
          const reason: unknown = signal.reason;
          const timedOut =
            reason instanceof ConnectionError && reason.code === 'KRAKEN_P2P_HANDSHAKE_TIMEOUT';
          settle(
            timedOut && connected
              ? peerRefused('timeout', 'peer did not complete the TLS handshake in time')
              : reason,
          );
        };
        socket.once('secureConnect', onSecure);
        socket.once('error', onError);
        socket.once('close', onClose);
        if (signal.aborted) onAbort();
        else signal.addEventListener('abort', onAbort, { once: true });
      });
    },
  };
}

function describeRemote(socket: Duplex & { remoteAddress?: string; remotePort?: number }): string {
  return `${socket.remoteAddress ?? 'unknown'}:${socket.remotePort ?? 0}`;
}
