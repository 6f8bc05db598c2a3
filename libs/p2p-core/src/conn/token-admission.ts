/**
 * Admission in a cluster with a token: the transport is plain TCP, and each connection
 * is handed the token read last from `p2p.clusterTokenFile` (read again when the file
 * changes), with which its PeerConn runs the cluster token challenge before anything else.
 */
import net from 'node:net';
import { ConfigError } from '@kraken/service-kit';
import type { PeerAdmission, PeerAdmissionDeps } from './peer-admission.js';
import { createReloadingFiles } from './reloading-files.js';

/** A token shorter than this is refused at start; 32 random hex characters make a good one. */
export const MIN_CLUSTER_TOKEN_BYTES = 16;

export function createTokenAdmission(path: string, deps: PeerAdmissionDeps): PeerAdmission {
  const token = createReloadingFiles({
    label: 'p2p',
    files: [{ key: 'clusterTokenFile', path }],
    build: ({ clusterTokenFile }) => clusterTokenOf(clusterTokenFile ?? Buffer.alloc(0), path),
    signature: deps.signature,
    logger: deps.logger,
  });
  return {
    mode: 'token',
    async load() {
      await token.load();
    },
    async createServer(hooks) {
      // Accepted paused: the connection manager decides how the socket is read.
      return net.createServer({ pauseOnConnect: true }, (socket) => {
        token.current().then(
          (clusterToken) => hooks.admitted({ socket, clusterToken }),
          // Only a first read can fail, and start() made that one.
          () => socket.destroy(),
        );
      });
    },
    async admitOutbound(socket) {
      return { socket, clusterToken: await token.current() };
    },
  };
}

/** The token's bytes: the file's, without surrounding whitespace. Never logged. */
export function clusterTokenOf(contents: Buffer, path: string): Buffer {
  let start = 0;
  let end = contents.length;
  while (start < end && isSpace(contents[start])) start++;
  while (end > start && isSpace(contents[end - 1])) end--;
  if (end - start < MIN_CLUSTER_TOKEN_BYTES) {
    throw new ConfigError(
      `p2p.clusterTokenFile "${path}" holds ${end - start} bytes; a cluster token needs at least ${MIN_CLUSTER_TOKEN_BYTES}`,
    );
  }
  return Buffer.from(contents.subarray(start, end));
}

function isSpace(byte: number | undefined): boolean {
  return byte === 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d;
}
